import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { AbuseGuard } from '../../src/security/abuse-guard.js';
import { silentLogger } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

describe('abuse guard (bans by IP in Redis)', () => {
  let server: TestRedis;
  let redis: Redis;
  let guard: AbuseGuard;
  let counted = 0;

  before(async () => {
    server = await startTestRedis();
    redis = new Redis({ path: server.socket });
    guard = new AbuseGuard(redis, createKeys('ag'), silentLogger, {
      trustedNetworks: ['10.1.0.0/16', '::1'],
      onFailure: () => {
        counted++;
      },
    });
  });

  after(async () => {
    redis.disconnect();
    await server.cleanup();
  });

  const fail = (ip: string, user: string | null = 'shop') =>
    guard.recordFailure({ ip, protocol: 'smtp', user });

  it('bans on the tenth failure within the window, not before', async () => {
    for (let n = 1; n <= 9; n++) assert.equal((await fail('192.0.2.10')).banned, false);
    assert.equal(await guard.isBanned('192.0.2.10'), false);
    assert.equal((await fail('192.0.2.10')).banned, true);
    assert.equal(await guard.isBanned('192.0.2.10'), true);
    assert.equal(
      await guard.isBanned('::ffff:192.0.2.10'),
      true,
      'IPv4-mapped form is the same address',
    );
    assert.equal(counted, 10);
  });

  it('bans the address, never the user name', async () => {
    assert.equal(await guard.isBanned('192.0.2.11'), false);
    // The same user from another address is unaffected.
    assert.equal((await fail('192.0.2.11')).banned, false);
  });

  it('doubles the ban for a repeat offender', async () => {
    const banKey = 'ag:abuse:ban:192.0.2.10';
    const first = await redis.ttl(banKey);
    assert.ok(first > 3500 && first <= 3600, `first ban ${first}s`);
    assert.equal(await guard.unban('192.0.2.10'), true);
    for (let n = 0; n < 10; n++) await fail('192.0.2.10');
    const second = await redis.ttl(banKey);
    assert.ok(second > 7100 && second <= 7200, `second ban ${second}s`);
  });

  it('lists bans and unbans; unbanning an unbanned address says so', async () => {
    assert.deepEqual(
      (await guard.listBans()).map((ban) => ban.ip),
      ['192.0.2.10'],
    );
    assert.equal(await guard.unban('192.0.2.10'), true);
    assert.equal(await guard.isBanned('192.0.2.10'), false);
    assert.equal(await guard.unban('192.0.2.10'), false);
    assert.deepEqual(await guard.listBans(), []);
  });

  it('never bans a trusted network', async () => {
    for (let n = 0; n < 15; n++) await fail('10.1.2.3');
    for (let n = 0; n < 15; n++) await fail('::1');
    assert.equal(await guard.isBanned('10.1.2.3'), false);
    assert.equal(await guard.isBanned('::1'), false);
    assert.equal(await guard.isTrusted('10.2.0.1'), false);
  });

  it('takes back failures it caused itself, never below zero', async () => {
    for (let n = 0; n < 3; n++) await fail('192.0.2.20', null);
    await guard.forgiveFailures('192.0.2.20', 2);
    assert.equal(await guard.failureCount('192.0.2.20'), 1);
    await guard.forgiveFailures('192.0.2.20', 5);
    assert.equal(await guard.failureCount('192.0.2.20'), 0);
  });
});
