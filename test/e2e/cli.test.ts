import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freeRelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import {
  isAlive,
  type RelayProcess,
  runRelayCommand,
  spawnRelay,
} from '../support/relay-process.js';

interface CreatedJson {
  name: string;
  secret: string;
  allowFrom: string[];
}

/**
 * Management commands against a running relay's embedded Redis (CONTRACT §CLI): they
 * adopt the server's redis-server on its socket and leave it running.
 */
describe('postwarden credentials / bans / queue / admin against a running relay', {
  timeout: 60_000,
}, () => {
  const data = tempDataDir();
  let relay: RelayProcess;
  let httpUrl: string;
  let env: Record<string, string>;

  async function post(secret: string): Promise<number> {
    const response = await fetch(`${httpUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'orders@example.com',
        to: ['alice@example.net'],
        subject: 'e2e',
        text: 'hello',
      }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  async function cli(args: string[], input?: string) {
    return runRelayCommand(args, env, { input });
  }

  before(async () => {
    const ports = await freeRelayPorts();
    env = relayEnv({ dataDir: data.dir, ports });
    httpUrl = `http://127.0.0.1:${ports.http}`;
    relay = spawnRelay(['start'], env);
    await relay.waitForOutput(/Create a credential/);
  });

  after(async () => {
    await relay?.kill('SIGTERM');
    data.remove();
  });

  it('credentials create --json prints name, secret and allowFrom once; the secret works over HTTP', async () => {
    const result = await cli([
      'credentials',
      'create',
      'shop',
      '--allow-from',
      '*@example.com',
      '--allow-from',
      'ceo@example.org',
      '--rate',
      '600/min',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const created = JSON.parse(result.stdout) as CreatedJson;
    assert.equal(created.name, 'shop');
    assert.deepEqual(created.allowFrom, ['*@example.com', 'ceo@example.org']);
    assert.match(created.secret, /^\S{20,}$/);
    assert.equal(await post(created.secret), 202);

    const list = await cli(['credentials', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes(created.secret), 'the secret is never shown again');
    const listed = JSON.parse(list.stdout) as Array<{ name: string; allowFrom: string[] }>;
    assert.deepEqual(
      listed.map((c) => c.name),
      ['shop'],
    );

    const again = await cli(['credentials', 'create', 'shop', '--allow-from', '*@example.com']);
    assert.equal(again.code, 1, 'a name is created once');
  });

  it('rotate replaces the secret and revoke stops it', async () => {
    const created = JSON.parse(
      (await cli(['credentials', 'create', 'app', '--allow-from', '*@example.com', '--json']))
        .stdout,
    ) as CreatedJson;
    const rotated = await cli(['credentials', 'rotate', 'app', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const { secret } = JSON.parse(rotated.stdout) as { secret: string };
    assert.notEqual(secret, created.secret);
    assert.equal(await post(created.secret), 401);
    assert.equal(await post(secret), 202);

    const revoked = await cli(['credentials', 'revoke', 'app', '--json']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(JSON.parse(revoked.stdout), { name: 'app', revoked: true });
    assert.equal(await post(secret), 401);

    const unknown = await cli(['credentials', 'revoke', 'nobody', '--json']);
    assert.equal(unknown.code, 1);
    assert.equal(
      (JSON.parse(unknown.stdout) as { error: { code: string } }).error.code,
      'not_found',
    );
  });

  it('bans unban of an address that is not banned says so and exits 0', async () => {
    const list = await cli(['bans', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
    const unban = await cli(['bans', 'unban', '203.0.113.9']);
    assert.equal(unban.code, 0, unban.stderr);
    assert.match(unban.stdout, /203\.0\.113\.9 is not banned/);
  });

  it('queue stats and show answer from the same Redis', async () => {
    const stats = await cli(['queue', 'stats', '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(typeof (JSON.parse(stats.stdout) as { waiting: number }).waiting, 'number');
    const missing = await cli(['queue', 'show', 'no-such-id']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no message no-such-id/);
  });

  it('admin set-password reads the new password from stdin', async () => {
    const result = await cli(['admin', 'set-password', '--json'], 'a-new-admin-password\n');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { updated: true });
    const weak = await cli(['admin', 'set-password'], 'short\n');
    assert.equal(weak.code, 1);
  });

  it('usage errors exit 2 and do not touch Redis', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['credentials', 'create', 'x'],
      ['credentials', 'create', 'x', '--allow-from', '*@example.com', '--rate', 'fast'],
      ['credentials', 'list', '--no-such-flag'],
      ['queue', 'retry'],
      ['bans', 'unban', 'not-an-ip'],
      ['start', '--role', 'boss'],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 2, `postwarden ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /Usage:/);
    }
  });

  it('left the relay and its embedded Redis running', async () => {
    assert.ok(isAlive(relay.pid));
    const response = await fetch(`${httpUrl}/readyz`);
    assert.equal(response.status, 200);
  });
});
