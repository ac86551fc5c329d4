import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { freeRelayPorts, type RelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import {
  type RelayProcess,
  runRelayCommand,
  spawnRelay,
  waitForRelay,
} from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

interface ListJson {
  data: Array<{
    credential: string;
    address: string;
    reason: string;
    source: string;
    createdAt: string;
  }>;
  next?: string;
}

/**
 * `postwarden suppressions list|add|remove` against a running relay (CONTRACT §CLI,
 * §Suppressions): the --json shapes, exit codes, and a removal that makes an address
 * bounced with 5.1.1 deliverable again, seen at a real fake upstream.
 */
describe('postwarden suppressions list / add / remove', { timeout: 120_000 }, () => {
  const data = tempDataDir();
  let redis: TestRedis;
  let upstream: FakeUpstream;
  let relay: RelayProcess;
  let ports: RelayPorts;
  let env: Record<string, string>;
  let secret: string;
  const refusing = new Set(['gone@example.net']);
  const cli = (args: string[]) => runRelayCommand([...args, '--json'], env);

  before(async () => {
    redis = await startTestRedis();
    upstream = await startFakeUpstream({
      mode: 'plain',
      rcpt: (address) => (refusing.has(address) ? `550 5.1.1 <${address}>: no such user` : 250),
    });
    ports = await freeRelayPorts();
    env = relayEnv({ dataDir: data.dir, ports, redisUrl: redis.url, upstreamUrl: upstream.url });
    relay = spawnRelay(['start'], env);
    await waitForRelay(relay, ports.http);
    const created = await cli(['credentials', 'create', 'shop', '--allow-from', '*@example.com']);
    assert.equal(created.code, 0, created.stderr);
    secret = (JSON.parse(created.stdout) as { secret: string }).secret;
  });

  after(async () => {
    await relay?.kill('SIGTERM');
    await upstream?.close();
    await redis?.cleanup();
    data.remove();
  });

  /** POST a message to `to` and wait until it is final; its status per recipient. */
  async function send(to: string): Promise<string> {
    const base = `http://127.0.0.1:${ports.http}`;
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    const response = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ from: 'orders@example.com', to, subject: 'hi', text: 'hi' }),
    });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    let status = '';
    await waitUntil(
      async () => {
        const view = (await (await fetch(`${base}/v1/messages/${id}`, { headers })).json()) as {
          recipients: Array<{ status: string }>;
        };
        status = view.recipients[0]?.status ?? '';
        return !['queued', 'deferred', ''].includes(status);
      },
      20_000,
      `message ${id} final`,
    );
    return status;
  }

  it('a 5.1.1 bounce shows in list --json; the next message to it is suppressed', async () => {
    assert.equal(await send('gone@example.net'), 'bounced');
    const listed = await cli(['suppressions', 'list', '--credential', 'shop']);
    assert.equal(listed.code, 0, listed.stderr);
    const list = JSON.parse(listed.stdout) as ListJson;
    assert.equal(list.data.length, 1);
    assert.deepEqual(
      { ...list.data[0], reason: undefined, createdAt: undefined },
      {
        credential: 'shop',
        address: 'gone@example.net',
        source: 'bounce',
        reason: undefined,
        createdAt: undefined,
      },
    );
    assert.match(list.data[0]?.reason ?? '', /^550 5\.1\.1 /);
    assert.equal(list.next, undefined);
    const rcpts = upstream.rcptAttempts('gone@example.net');
    assert.equal(await send('gone@example.net'), 'suppressed');
    assert.equal(upstream.rcptAttempts('gone@example.net'), rcpts);
  });

  it('add --json, then list without --credential shows every list', async () => {
    const added = await cli(['suppressions', 'add', 'Manual@Example.NET', '--credential', 'shop']);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(JSON.parse(added.stdout), {
      address: 'Manual@example.net',
      added: ['shop'],
      alreadyListed: [],
    });
    const again = await cli(['suppressions', 'add', 'Manual@example.net', '--credential', 'shop']);
    assert.deepEqual(JSON.parse(again.stdout).alreadyListed, ['shop']);
    const all = JSON.parse((await cli(['suppressions', 'list'])).stdout) as ListJson;
    assert.deepEqual(
      all.data.map((entry) => [entry.address, entry.source]),
      [
        ['Manual@example.net', 'manual'],
        ['gone@example.net', 'bounce'],
      ],
    );
    const paged = JSON.parse(
      (await cli(['suppressions', 'list', '--limit', '1'])).stdout,
    ) as ListJson;
    assert.equal(paged.data.length, 1);
    assert.ok(paged.next);
  });

  it('exit codes: unknown credential 1, usage errors 2, remove of an absent address 0 and says so', async () => {
    const unknown = await cli(['suppressions', 'list', '--credential', 'nobody']);
    assert.equal(unknown.code, 1);
    assert.equal(JSON.parse(unknown.stdout).error.code, 'unknown_credential');
    assert.equal((await cli(['suppressions', 'add'])).code, 2);
    assert.equal((await cli(['suppressions', 'frobnicate'])).code, 2);
    const bad = await cli(['suppressions', 'add', 'not an address', '--credential', 'shop']);
    assert.equal(bad.code, 1);
    const absent = await runRelayCommand(
      ['suppressions', 'remove', 'never@example.net', '--credential', 'shop'],
      env,
    );
    assert.equal(absent.code, 0);
    assert.match(absent.stdout, /never@example\.net is not suppressed for shop/);
  });

  it('remove --json → the address is delivered again (the mailbox exists again)', async () => {
    refusing.delete('gone@example.net');
    const removed = await cli([
      'suppressions',
      'remove',
      'gone@EXAMPLE.net',
      '--credential',
      'shop',
    ]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(JSON.parse(removed.stdout), {
      address: 'gone@example.net',
      removed: ['shop'],
      notListed: [],
    });
    assert.equal(await send('gone@example.net'), 'delivered');
    assert.equal(upstream.deliveriesTo('gone@example.net'), 1);
    const audit = JSON.parse((await cli(['audit', '--limit', '10'])).stdout) as Array<{
      action: string;
      target: string;
    }>;
    assert.ok(
      audit.some(
        (entry) => entry.action === 'suppression-remove' && entry.target === 'gone@example.net',
      ),
    );
  });
});
