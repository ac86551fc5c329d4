import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeRelayPorts, type RelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { httpStatus, isAlive, type RelayProcess, spawnRelay } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * `postwarden start` with nothing configured but a data dir and ports (CONTRACT §Set-up):
 * embedded Redis, capture upstream, banner, first-run admin password, orderly SIGTERM.
 */
describe('postwarden start with embedded defaults', { timeout: 60_000 }, () => {
  const data = tempDataDir();
  let ports: RelayPorts;
  let relay: RelayProcess | undefined;

  function redisPid(): number {
    return Number(readFileSync(path.join(data.dir, 'redis', 'redis.pid'), 'utf8').trim());
  }

  async function startAndWait(): Promise<RelayProcess> {
    const started = spawnRelay(['start'], relayEnv({ dataDir: data.dir, ports }));
    relay = started;
    await started.waitForOutput(/Create a credential/);
    return started;
  }

  async function stopWithSigterm(started: RelayProcess): Promise<number | null> {
    const t0 = Date.now();
    const code = await started.kill('SIGTERM');
    assert.ok(Date.now() - t0 < 25_000, 'shut down within the deadline');
    return code;
  }

  before(async () => {
    ports = await freeRelayPorts();
  });

  after(async () => {
    await relay?.kill();
    // A failed assertion may leave the embedded Redis running: never leak it.
    try {
      const pid = redisPid();
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch {}
    data.remove();
  });

  it('starts embedded Redis, prints where it listens, the admin password and the credential hint; SIGTERM exits 0 and stops Redis', async () => {
    const started = await startAndWait();
    const banner = started.stdout();
    assert.match(banner, new RegExp(`http://127\\.0\\.0\\.1:${ports.http}/v1/messages`));
    assert.match(banner, new RegExp(`127\\.0\\.0\\.1:${ports.smtp}`));
    assert.match(banner, new RegExp(`127\\.0\\.0\\.1:${ports.smtps}`));
    assert.match(banner, /Redis:\s+embedded, unix socket .*redis\.sock/);
    assert.match(banner, /capture/);
    assert.match(banner, /Admin password \(shown only this once[^)]*\): \S{16,}/);
    assert.match(banner, /npx postwarden credentials create \S+ --allow-from '\*@example\.com'/);
    assert.equal(await httpStatus(`http://127.0.0.1:${ports.http}/readyz`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${ports.http}/healthz`), 200);

    const pid = redisPid();
    assert.ok(isAlive(pid), 'the embedded redis-server runs');
    assert.equal(await stopWithSigterm(started), 0);
    await waitUntil(() => !isAlive(pid), 5_000, 'the embedded redis-server to exit');
    assert.equal(await httpStatus(`http://127.0.0.1:${ports.http}/healthz`), undefined);
  });

  it('does not print a new admin password on the second start', async () => {
    const started = await startAndWait();
    assert.doesNotMatch(started.stdout(), /Admin password/);
    assert.equal(await httpStatus(`http://127.0.0.1:${ports.http}/readyz`), 200);
    assert.equal(await stopWithSigterm(started), 0);
  });
});
