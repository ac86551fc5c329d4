import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { freeRelayPorts, type RelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { runRelayCommand, spawnRelay } from '../support/relay-process.js';

function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = connect(socket);
    client.once('connect', () => {
      client.destroy();
      resolve(true);
    });
    client.once('error', () => resolve(false));
  });
}

/**
 * CONTRACT §Configuration: bad configuration, a port in use, or a Redis that could lose
 * or evict accepted mail stops start-up with a clear message and exit code 1.
 */
describe('postwarden start refuses to run misconfigured', { timeout: 60_000 }, () => {
  const data = tempDataDir();
  let ports: RelayPorts;
  let noAof: TestRedis;
  let evicting: TestRedis;
  let blocker: Server;

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return relayEnv({ dataDir: data.dir, ports }, extra);
  }

  before(async () => {
    ports = await freeRelayPorts();
    noAof = await startTestRedis({ extraArgs: ['--appendonly', 'no'] });
    evicting = await startTestRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] });
  });

  after(async () => {
    blocker?.close();
    await noAof?.cleanup();
    await evicting?.cleanup();
    data.remove();
  });

  const badConfig: Array<[string, string]> = [
    ['POSTWARDEN_UPSTREAM_URL', 'ftp://x'],
    ['POSTWARDEN_SMTP_PORT', 'abc'],
    ['POSTWARDEN_RETRY_BASE', 'soon'],
  ];
  for (const [variable, value] of badConfig) {
    it(`exits 1 naming ${variable} when it is ${value}`, async () => {
      const result = await runRelayCommand(['start'], env({ [variable]: value }));
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^postwarden: .*${variable}`, 'm'));
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one clear line');
      assert.equal(result.stdout, '');
    });
  }

  it('names the bad variable in JSON with --json', async () => {
    const result = await runRelayCommand(
      ['start', '--json'],
      env({ POSTWARDEN_HTTP_PORT: '99999' }),
    );
    assert.equal(result.code, 1);
    const body = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'bad_config');
    assert.match(body.error.message, /POSTWARDEN_HTTP_PORT/);
  });

  it('exits 1 when the certificate cannot be read', async () => {
    const result = await runRelayCommand(
      ['start'],
      env({
        REDIS_URL: noAof.url,
        POSTWARDEN_DURABILITY: 'memory',
        POSTWARDEN_TLS_CERT: path.join(data.dir, 'missing-cert.pem'),
        POSTWARDEN_TLS_KEY: path.join(data.dir, 'missing-key.pem'),
      }),
    );
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /POSTWARDEN_TLS_CERT/);
  });

  it('exits 1 when the HTTP port is in use, and leaves no embedded Redis behind', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(ports.http, '127.0.0.1', resolve));
    const result = await runRelayCommand(['start'], env());
    blocker.close();
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`${ports.http}.*already in use.*POSTWARDEN_HTTP_PORT`));
    // It did start the embedded Redis (its AOF is there), and stopped it again.
    assert.ok(existsSync(path.join(data.dir, 'redis', 'appendonlydir')));
    assert.equal(await socketAnswers(path.join(data.dir, 'redis', 'redis.sock')), false);
  });

  it('refuses a Redis without AOF under fsync durability (exit 1, says why)', async () => {
    const result = await runRelayCommand(['start'], env({ REDIS_URL: noAof.url }));
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /appendonly|AOF/i);
  });

  it('refuses a Redis whose maxmemory-policy is not noeviction, whatever the durability', async () => {
    const result = await runRelayCommand(
      ['start'],
      env({ REDIS_URL: evicting.url, POSTWARDEN_DURABILITY: 'memory' }),
    );
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /noeviction/);
  });

  it('starts on that Redis with POSTWARDEN_DURABILITY=memory, with a warning', async () => {
    const relay = spawnRelay(
      ['start'],
      env({ REDIS_URL: noAof.url, POSTWARDEN_DURABILITY: 'memory' }),
    );
    try {
      await relay.waitForOutput(/Create a credential/);
      assert.match(relay.stdout(), /durability memory/);
      assert.match(relay.stdout() + relay.stderr(), /can be lost/);
      assert.equal(await relay.kill('SIGTERM'), 0);
    } finally {
      await relay.kill();
    }
  });
});
