import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeRelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { type RelayProcess, runRelayCommand, spawnRelay } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * CONTRACT §Retention through a real relay: with POSTWARDEN_RETENTION=1s a delivered
 * message answers 404 on GET /v1/messages/:id a little later, and its captured mail is
 * gone too; `queue stats` and `queue reindex --json` agree on what is left.
 */
describe('retention in a running relay', { timeout: 90_000 }, () => {
  const data = tempDataDir();
  let relay: RelayProcess;
  let httpUrl: string;
  let env: Record<string, string>;
  let secret: string;

  before(async () => {
    const ports = await freeRelayPorts();
    env = relayEnv({ dataDir: data.dir, ports }, { POSTWARDEN_RETENTION: '1s' });
    httpUrl = `http://127.0.0.1:${ports.http}`;
    relay = spawnRelay(['start'], env);
    await relay.waitForOutput(/Create a credential/);
    const created = await runRelayCommand(
      ['credentials', 'create', 'shop', '--allow-from', '*@example.com', '--json'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    secret = (JSON.parse(created.stdout) as { secret: string }).secret;
  });

  after(async () => {
    await relay?.kill('SIGTERM');
    data.remove();
  });

  const get = (id: string) =>
    fetch(`${httpUrl}/v1/messages/${id}`, { headers: { authorization: `Bearer ${secret}` } });

  it('a delivered message is gone after the window: 404, captured mail deleted, counts right', async () => {
    const response = await fetch(`${httpUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'orders@example.com',
        to: ['alice@example.net'],
        subject: 'retention',
        text: 'hello',
      }),
    });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    const captured = path.join(data.dir, 'captured', `${id}.eml`);
    await waitUntil(
      async () => ((await (await get(id)).json()) as { status?: string }).status === 'delivered',
      15_000,
      'delivery',
    );
    assert.ok(existsSync(captured), 'captured while retained');
    await waitUntil(async () => (await get(id)).status === 404, 20_000, 'retention to delete it');
    // The files go right after the batch that deleted the record (outside Redis), so a
    // poll can see the 404 a moment before they are gone.
    await waitUntil(
      async () => !existsSync(captured) && !existsSync(captured.replace(/\.eml$/, '.json')),
      5_000,
      'captured mail to follow the message',
    );

    const stats = await runRelayCommand(['queue', 'stats', '--json'], env);
    assert.equal(stats.code, 0, stats.stderr);
    assert.deepEqual((JSON.parse(stats.stdout) as { byStatus: object }).byStatus, {});
    const reindex = await runRelayCommand(['queue', 'reindex', '--json'], env);
    assert.equal(reindex.code, 0, reindex.stderr);
    assert.deepEqual(JSON.parse(reindex.stdout), { scanned: 0, fixed: 0, stale: 0, counts: {} });
  });
});
