import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { freeRelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { type RelayProcess, runRelayCommand, spawnRelay } from '../support/relay-process.js';

interface AuditJson {
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

/**
 * CONTRACT §CLI / §Containment through the real binary against a running relay:
 * --hold-above, hold, queue purge (--dry-run and --json print {"count": N}), release,
 * pause/resume (and /readyz saying so), and the audit log of all of it, as cli:<OS user>.
 */
describe('postwarden hold / release / queue purge / pause / resume / audit', {
  timeout: 90_000,
}, () => {
  const data = tempDataDir();
  let relay: RelayProcess;
  let httpUrl: string;
  let env: Record<string, string>;
  const secrets: string[] = [];
  let purgedCount = 0;

  async function post(secret: string): Promise<{ status: number; body: { status?: string } }> {
    const response = await fetch(`${httpUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'orders@example.com',
        to: ['alice@example.net'],
        subject: 'containment',
        text: 'hello',
      }),
    });
    return { status: response.status, body: (await response.json()) as { status?: string } };
  }

  async function cli(args: string[]) {
    const result = await runRelayCommand([...args, '--json'], env);
    assert.equal(result.code, 0, `postwarden ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as unknown;
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

  it('credentials create --hold-above 3/h holds the fourth message; purge --dry-run counts, purge ends them', async () => {
    const created = (await cli([
      'credentials',
      'create',
      'leaky',
      '--allow-from',
      '*@example.com',
      '--hold-above',
      '3/h',
    ])) as { secret: string; holdAbove: number };
    secrets.push(created.secret);
    assert.equal(created.holdAbove, 3);
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await post(created.secret)).body.status);
    assert.deepEqual(statuses.slice(3), ['held', 'held']);
    // The two held at the door, and any of the first three a worker had not sent yet when
    // the hold began (it holds those before sending).
    const counted = (await cli(['queue', 'purge', '--credential', 'leaky', '--dry-run'])) as {
      count: number;
    };
    assert.ok(counted.count >= 2 && counted.count <= 5, `${counted.count} held`);
    assert.deepEqual(await cli(['queue', 'purge', '--credential', 'leaky']), counted);
    purgedCount = counted.count;
    assert.deepEqual(await cli(['queue', 'purge', '--credential', 'leaky', '--dry-run']), {
      count: 0,
    });
  });

  it('hold and release by hand', async () => {
    const created = (await cli([
      'credentials',
      'create',
      'manual',
      '--allow-from',
      '*@example.com',
    ])) as { secret: string };
    secrets.push(created.secret);
    await cli(['hold', 'manual', '--reason', 'suspicious volume']);
    assert.equal((await post(created.secret)).body.status, 'held');
    const released = (await cli(['release', 'manual'])) as { wasHeld: boolean; released: number };
    assert.deepEqual(released, { name: 'manual', wasHeld: true, released: 1 });
    assert.equal((await post(created.secret)).body.status, 'queued');
  });

  it('pause and resume: /readyz stays 200 and reports the pause', async () => {
    await cli(['pause', '--reason', 'incident 42']);
    const paused = await fetch(`${httpUrl}/readyz`);
    assert.equal(paused.status, 200);
    assert.deepEqual(await paused.json(), { status: 'ok', paused: true });
    await cli(['resume']);
    assert.deepEqual(await (await fetch(`${httpUrl}/readyz`)).json(), {
      status: 'ok',
      paused: false,
    });
  });

  it('audit lists every action newest first, as cli:<user>, without secrets', async () => {
    const entries = (await cli(['audit', '--limit', '100'])) as AuditJson[];
    assert.deepEqual(
      entries.map((e) => e.action),
      ['resume', 'pause', 'release', 'hold', 'credential-create', 'purge', 'credential-create'],
    );
    assert.ok(entries.every((e) => e.actor === `cli:${userInfo().username}`));
    assert.equal(entries[1]?.detail, 'incident 42');
    assert.match(entries[5]?.detail ?? '', new RegExp(`^${purgedCount} message\\(s\\) purged`));
    const text = JSON.stringify(entries);
    for (const secret of secrets) assert.ok(!text.includes(secret), 'no secret in the audit log');
    const limited = (await cli(['audit', '--limit', '2'])) as AuditJson[];
    assert.deepEqual(
      limited.map((e) => e.action),
      ['resume', 'pause'],
    );
  });
});
