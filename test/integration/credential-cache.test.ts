import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedis, waitForReady } from '../../src/redis/connections.js';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { commandsDuring } from '../support/redis-monitor.js';

/**
 * The in-process credential cache of the submission path: a hit costs one GET of the
 * version counter, and a change made through another process's store (the CLI, the admin
 * page of another instance) applies to the very next lookup.
 */
describe('credential cache', () => {
  let server: TestRedis;
  let intakeRedis: Redis;
  let cliRedis: Redis;
  const keys = createKeys('cc');
  let now = 1_000_000;
  let intake: CredentialStore;
  let cli: CredentialStore;

  before(async () => {
    server = await startTestRedis();
    intakeRedis = createRedis(server.url, 'producer', 'intake');
    cliRedis = createRedis(server.url, 'producer', 'cli');
    await Promise.all([waitForReady(intakeRedis, 5000), waitForReady(cliRedis, 5000)]);
    intake = new CredentialStore(intakeRedis, keys, { ttlMs: 2000, now: () => now });
    cli = new CredentialStore(cliRedis, keys);
  });

  after(async () => {
    intakeRedis.disconnect();
    cliRedis.disconnect();
    await server.cleanup();
  });

  it('a repeated bearer lookup reads only the version counter', async () => {
    const { secret } = await cli.create({ name: 'shop', allowFrom: ['*@example.com'] });
    const cold = await commandsDuring(intakeRedis, () => intake.authenticateBySecret(secret));
    assert.deepEqual(
      cold.map(([name]) => name),
      ['get', 'get', 'hgetall'],
      'version and secret together, then the record',
    );
    const warm = await commandsDuring(intakeRedis, async () => {
      assert.equal((await intake.authenticateBySecret(secret))?.name, 'shop');
    });
    assert.deepEqual(
      warm.map(([name, key]) => [name, key]),
      [['get', 'cc:creds-version']],
    );
  });

  it('a revoke by another process refuses the next bearer and SMTP lookup', async () => {
    const { secret } = await cli.create({ name: 'app', allowFrom: ['*@example.com'] });
    assert.equal((await intake.authenticateBySecret(secret))?.name, 'app');
    assert.equal((await intake.get('app'))?.revoked, false);
    assert.ok(await intake.authenticate('app', secret));
    assert.equal(await cli.revoke('app'), true);
    assert.equal(await intake.authenticateBySecret(secret), undefined);
    assert.equal((await intake.get('app'))?.revoked, true);
    assert.equal(await intake.authenticate('app', secret), undefined);
  });

  it('a rotate by another process: the old secret fails at once, the new one works', async () => {
    const { secret: old } = await cli.create({ name: 'rotating', allowFrom: ['*@example.com'] });
    assert.ok(await intake.authenticateBySecret(old));
    assert.ok(await intake.authenticate('rotating', old));
    const fresh = await cli.rotate('rotating');
    assert.ok(fresh);
    assert.equal(await intake.authenticateBySecret(old), undefined);
    assert.equal(await intake.authenticate('rotating', old), undefined);
    assert.equal((await intake.authenticateBySecret(fresh))?.name, 'rotating');
    assert.ok(await intake.authenticate('rotating', fresh));
  });

  it('re-reads a credential once its entry is older than the TTL', async () => {
    const { secret } = await cli.create({ name: 'aging', allowFrom: ['*@example.com'] });
    await intake.authenticateBySecret(secret);
    now += 1999;
    const fresh = await commandsDuring(intakeRedis, () => intake.authenticateBySecret(secret));
    assert.equal(fresh.length, 1, 'still cached just before the TTL');
    now += 1;
    const expired = await commandsDuring(intakeRedis, () => intake.authenticateBySecret(secret));
    assert.deepEqual(
      expired.map(([name]) => name),
      ['get', 'get', 'hgetall'],
    );
  });

  it('does not remember unknown secrets or names', async () => {
    const guess = `pw_${'x'.repeat(43)}`;
    for (let i = 0; i < 2; i++) {
      const reads = await commandsDuring(intakeRedis, async () => {
        assert.equal(await intake.authenticateBySecret(guess), undefined);
        assert.equal(await intake.authenticate('nobody', guess), undefined);
      });
      assert.deepEqual(
        reads.map(([name]) => name),
        ['get', 'get', 'get', 'hgetall'],
      );
    }
  });
});
