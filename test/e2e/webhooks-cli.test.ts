import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { freeRelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { runRelayCommand } from '../support/relay-process.js';

/** `postwarden webhooks add|list|remove|rotate` (CONTRACT §CLI, §Webhooks), no server needed. */
describe('postwarden webhooks', { timeout: 120_000 }, () => {
  const data = tempDataDir();
  let redis: TestRedis;
  let env: Record<string, string>;
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runRelayCommand(args, { ...env, ...extra });
  const allowPrivate = { POSTWARDEN_WEBHOOK_ALLOW_PRIVATE: 'true' };

  before(async () => {
    redis = await startTestRedis();
    env = relayEnv({ dataDir: data.dir, ports: await freeRelayPorts(), redisUrl: redis.url });
  });

  after(async () => {
    await redis?.cleanup();
    data.remove();
  });

  for (const url of [
    'http://127.0.0.1:9/hook',
    'http://[::1]:9/hook',
    'http://10.1.2.3/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::ffff:127.0.0.1]:9/hook',
    'http://localhost:9/hook',
  ]) {
    it(`refuses ${url} at add (exit 1, a clear message, nothing stored)`, async () => {
      const result = await cli(['webhooks', 'add', url]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /resolves to .*loopback, private, link-local or unique-local address \(set POSTWARDEN_WEBHOOK_ALLOW_PRIVATE=true/,
      );
    });
  }

  it('stored nothing for the refused URLs', async () => {
    const result = await cli(['webhooks', 'list', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), []);
  });

  it('answers an unknown event type and a missing URL with a usage error (exit 2)', async () => {
    assert.equal(
      (await cli(['webhooks', 'add', 'https://example.com/h', '--events', 'opened'])).code,
      2,
    );
    assert.equal((await cli(['webhooks', 'add'])).code, 2);
    assert.equal((await cli(['webhooks', 'rotate'])).code, 2);
    assert.equal((await cli(['webhooks', 'frob'])).code, 2);
  });

  it('adds (--json: id, url, secret, events), lists without secrets, rotates and removes, all audited', async () => {
    const credential = await cli([
      'credentials',
      'create',
      'shop',
      '--allow-from',
      '*@example.com',
    ]);
    assert.equal(credential.code, 0, credential.stderr);
    const added = await cli(['webhooks', 'add', 'http://localhost:9/hook', '--json'], allowPrivate);
    assert.equal(added.code, 0, added.stderr);
    const endpoint = JSON.parse(added.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(endpoint).sort(), ['events', 'id', 'secret', 'url']);
    assert.match(String(endpoint.secret), /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(endpoint.events, [
      'message.delivered',
      'message.deferred',
      'message.bounced',
      'message.expired',
      'message.suppressed',
      'message.held',
    ]);
    const scoped = await cli(
      [
        'webhooks',
        'add',
        'http://127.0.0.1:9/x',
        '--credential',
        'shop',
        '--events',
        'queued,delivered',
        '--json',
      ],
      allowPrivate,
    );
    assert.equal(scoped.code, 0, scoped.stderr);
    assert.deepEqual((JSON.parse(scoped.stdout) as { events: string[] }).events, [
      'message.queued',
      'message.delivered',
    ]);
    const unknownCredential = await cli(
      ['webhooks', 'add', 'http://127.0.0.1:9/x', '--credential', 'nobody'],
      allowPrivate,
    );
    assert.equal(unknownCredential.code, 1);

    const list = await cli(['webhooks', 'list', '--json']);
    assert.equal(list.code, 0);
    assert.ok(!list.stdout.includes('whsec_'), 'list never shows a secret');
    const listed = JSON.parse(list.stdout) as { id: string; credentialName?: string }[];
    assert.equal(listed.length, 2);
    assert.equal(listed.find((entry) => entry.credentialName === 'shop')?.credentialName, 'shop');

    const rotated = await cli(['webhooks', 'rotate', String(endpoint.id), '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const rotatedSecret = (JSON.parse(rotated.stdout) as { secret: string }).secret;
    assert.match(rotatedSecret, /^whsec_/);
    assert.notEqual(rotatedSecret, endpoint.secret);

    assert.equal((await cli(['webhooks', 'remove', String(endpoint.id)])).code, 0);
    assert.equal((await cli(['webhooks', 'remove', String(endpoint.id)])).code, 1);
    assert.equal((await cli(['webhooks', 'rotate', 'wh_nope'])).code, 1);

    const audit = await cli(['audit', '--json']);
    const actions = (JSON.parse(audit.stdout) as { action: string; detail: string }[]).map(
      (entry) => entry.action,
    );
    for (const action of ['webhook-add', 'webhook-rotate', 'webhook-remove'])
      assert.ok(actions.includes(action), action);
    assert.ok(!audit.stdout.includes('whsec_'), 'no secret in the audit log');
  });
});
