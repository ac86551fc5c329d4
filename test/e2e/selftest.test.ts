import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createKeys } from '../../src/redis/keys.js';
import { type RelayHarness, startRelayHarness } from '../support/relay-harness.js';
import { runRelayCommand } from '../support/relay-process.js';
import { testTlsPair } from '../support/tls.js';

describe('postwarden selftest', { timeout: 120_000 }, () => {
  let harness: RelayHarness;
  let openServer: SMTPServer;
  let openPort: number;

  before(async () => {
    harness = await startRelayHarness();
    const tls = await testTlsPair();
    // A deliberately open relay: authentication optional, every sender and recipient taken.
    openServer = new SMTPServer({
      key: tls.key,
      cert: tls.cert,
      authOptional: true,
      disableReverseLookup: true,
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    // The probes drop connections abruptly; that is not a failure of this server.
    openServer.on('error', () => {});
    await new Promise<void>((resolve) => openServer.listen(0, '127.0.0.1', () => resolve()));
    openPort = (openServer.server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => openServer?.close(() => resolve()));
    await harness?.stop();
  });

  it('passes against a default relay and leaves no trace', async () => {
    const result = await runRelayCommand(['selftest'], harness.env, { timeoutMs: 60_000 });
    console.log(result.stdout.replace(/^/gm, '# '));
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /selftest passed/);
    assert.doesNotMatch(result.stdout, /^FAIL/m);
    // Every door was actually tried: both SMTP ports, spoofing, smuggling, HTTP, admin.
    for (const check of [
      /unauthenticated relay/,
      /implicit TLS/,
      /ungranted envelope sender/,
      /ungranted From:/,
      /bare-LF smuggling/,
      /revoked secret/,
      /\/admin without a session/,
    ]) {
      assert.match(result.stdout, check);
    }
    const names = (await harness.credentials.list()).map((credential) => credential.name);
    assert.deepEqual(
      names.filter((name) => name.startsWith('selftest-')),
      [],
    );
    const failures = await harness.redis.get(`${createKeys().abusePrefix()}:fail:127.0.0.1`);
    assert.ok(failures === null || Number(failures) === 0, `failures left: ${failures}`);
    assert.equal(await harness.queuedCount(), 0);
    assert.equal(harness.sink.received.length, 0);
    // The last success is exported as a metric by the running relay.
    const metrics = await (await fetch(`http://127.0.0.1:${harness.ports.http}/metrics`)).text();
    const at = Number(/^postwarden_selftest_last_success (\d+)/m.exec(metrics)?.[1]);
    assert.ok(at > Date.now() / 1000 - 120, `postwarden_selftest_last_success ${at}`);
  });

  it('fails (exit 1) against an open SMTP server', async () => {
    const result = await runRelayCommand(
      [
        'selftest',
        '--smtp',
        `127.0.0.1:${openPort}`,
        '--http',
        `http://127.0.0.1:${harness.ports.http}`,
      ],
      harness.env,
      { timeoutMs: 60_000 },
    );
    console.log(result.stdout.replace(/^/gm, '# '));
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^FAIL .*unauthenticated relay/m);
    assert.match(result.stdout, /selftest FAILED/);
  });
});
