import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import type { Services } from '../../src/runtime/services.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { createLogSink } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

/**
 * The HTTP fast path (intake/http/auth.ts, issue 14): a secret this process authenticated
 * a moment ago is taken without reading Redis, and the stage script confirms it — the
 * credentials version and the client's ban — in the same step as its write. These tests
 * check that it is taken (one command per message), and that nothing it skips lets a
 * message through or changes an answer: a credential changed by another process (the CLI),
 * a ban, and refusals that would have been a 401 or 403 before the body.
 */

function message(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    from: 'Shop <orders@example.com>',
    to: ['a@example.net'],
    subject: 'Fast path',
    text: 'Hello.',
    ...overrides,
  };
}

describe('HTTP bearer fast path', () => {
  let server: TestRedis;
  let intake: InProcessRelay;
  let services: Services;
  /** Another process's view of the same credentials (the CLI): its changes clear no cache here. */
  let cliRedis: Redis;
  let cli: CredentialStore;
  const sink = createLogSink();

  const post = (
    path: string,
    body: unknown,
    secret: string,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${intake.baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const records = async () =>
    Object.values(await services.store.countRecords()).reduce((sum, n) => sum + n, 0);
  const failures = () => sink.records.filter((line) => line.event === 'auth_failed').length;

  async function provenSecret(name: string): Promise<string> {
    const { secret } = await cli.create({ name, allowFrom: ['*@example.com'] });
    // The first message authenticates in full, which is what puts the secret on the fast path.
    assert.equal((await post('/v1/messages', message(), secret)).status, 202);
    return secret;
  }

  before(async () => {
    server = await startTestRedis();
    intake = await startInProcessRelay(
      {},
      // A long cache TTL, so that a slow machine cannot push a request off the fast path.
      { role: 'intake', logger: sink.logger, credentialCacheTtlMs: 600_000 },
      { redis: server },
    );
    services = intake.relay.services;
    cliRedis = new Redis({ path: server.socket });
    cli = new CredentialStore(cliRedis, createKeys());
  });

  after(async () => {
    cliRedis.disconnect();
    await intake.close();
    await server.cleanup();
  });

  beforeEach(async () => {
    await services.abuseGuard.unban('127.0.0.1');
  });

  it('a proven secret costs one command per message: the stage script, no read before it', async () => {
    const secret = await provenSecret('fast');
    const keys = createKeys();
    const monitored = new Redis({ path: server.socket });
    const monitor = await monitored.monitor();
    const commands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') commands.push(args);
    });
    // MONITOR shows commands from the moment it answered; a PING marks where ours begin.
    await cliRedis.ping('fast-path-start');
    for (let i = 0; i < 5; i++) {
      assert.equal((await post('/v1/messages', message(), secret)).status, 202);
    }
    await cliRedis.ping('fast-path-end');
    const deadline = Date.now() + 5000;
    while (!commands.some((args) => args[1] === 'fast-path-end') && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    monitor.disconnect();
    monitored.disconnect();
    const start = commands.findIndex((args) => args[1] === 'fast-path-start');
    const end = commands.findIndex((args) => args[1] === 'fast-path-end');
    assert.ok(start !== -1 && end > start, 'both marks were seen');
    const between = commands.slice(start + 1, end);
    const named = (name: string) => between.filter((args) => args[0]?.toUpperCase() === name);
    assert.equal(named('EVALSHA').length + named('EVAL').length, 5, JSON.stringify(between));
    // The stage script names the version key itself; nothing else may read it.
    const versionReads = between.filter(
      (args) => !/^eval/i.test(args[0] ?? '') && args.includes(keys.credentialsVersion()),
    );
    assert.deepEqual(versionReads, [], 'no read of the credentials version before staging');
    const banReads = between.filter(
      (args) => args[0]?.toUpperCase() === 'EXISTS' && args[1]?.startsWith(keys.abusePrefix()),
    );
    assert.deepEqual(banReads, [], 'no ban check before staging');
  });

  it('another credential changing elsewhere does not refuse a proven secret', async () => {
    const secret = await provenSecret('steady');
    await cli.create({ name: 'someone-else', allowFrom: ['*@example.com'] });
    const before = await records();
    assert.equal((await post('/v1/messages', message(), secret)).status, 202);
    assert.equal(await records(), before + 1);
  });

  it('revoked by another process: 401, counted as a failure, nothing queued, off the fast path', async () => {
    const secret = await provenSecret('revoked-elsewhere');
    await cli.revoke('revoked-elsewhere');
    const before = await records();
    const failuresBefore = failures();
    for (const path of ['/v1/messages', '/emails']) {
      const response = await post(path, message(), secret);
      assert.equal(response.status, path === '/emails' ? 403 : 401, path);
      if (path === '/v1/messages') {
        assert.equal(response.headers.get('www-authenticate'), 'Bearer');
        const body = (await response.json()) as { error: { code: string } };
        assert.equal(body.error.code, 'unauthorized');
      } else {
        // Resend's answer to a key it does not know (resend-errors.ts).
        assert.equal(((await response.json()) as { name: string }).name, 'invalid_api_key');
      }
    }
    assert.equal(await records(), before);
    assert.equal(failures(), failuresBefore + 2);
    assert.equal(services.credentials.recentlyAuthenticated(secret), undefined);
  });

  it('rotated by another process: the old secret is refused, the new one sends', async () => {
    const old = await provenSecret('rotated-elsewhere');
    const fresh = await cli.rotate('rotated-elsewhere');
    assert.ok(fresh);
    const before = await records();
    assert.equal((await post('/v1/messages', message(), old)).status, 401);
    assert.equal(await records(), before);
    assert.equal((await post('/v1/messages', message(), fresh)).status, 202);
    assert.equal(await records(), before + 1);
  });

  it('banned while proven: 403 banned for a good message and a bad one, in each dialect, nothing queued', async () => {
    const secret = await provenSecret('banned-later');
    for (let i = 0; i < 10; i++) {
      await services.abuseGuard.recordFailure({ ip: '127.0.0.1', protocol: 'smtp', user: 'x' });
    }
    assert.equal(await services.abuseGuard.isBanned('127.0.0.1'), true, 'the ban is in place');
    const before = await records();
    // Proven again first: each refusal takes the secret off the fast path (see addBearerAuth).
    const proven = () => services.credentials.recentlyAuthenticated(secret) !== undefined;
    const answers: Array<[string, number, unknown]> = [];
    for (const [path, body] of [
      ['/v1/messages', message()],
      ['/v1/messages', { from: 'orders@example.com' }],
      ['/emails', { from: 'orders@example.com', to: 'a@example.net', subject: 's', text: 't' }],
      ['/email', { From: 'orders@example.com', To: 'a@example.net', Subject: 's', TextBody: 't' }],
    ] as const) {
      await services.abuseGuard.unban('127.0.0.1');
      await services.credentials.authenticateBySecret(secret);
      for (let i = 0; i < 10; i++) {
        await services.abuseGuard.recordFailure({ ip: '127.0.0.1', protocol: 'smtp', user: 'x' });
      }
      assert.ok(proven(), `${path}: on the fast path`);
      const headers: Record<string, string> =
        path === '/email' ? { 'x-postmark-server-token': secret } : {};
      const response = await post(path, body, secret, headers);
      answers.push([path, response.status, await response.json()]);
      assert.ok(!proven(), `${path}: the refusal took the secret off the fast path`);
    }
    assert.equal(await records(), before);
    assert.deepEqual(answers[0]?.slice(1), [
      403,
      { error: { code: 'banned', message: 'this client address is banned' } },
    ]);
    assert.deepEqual(
      answers[1]?.slice(1),
      answers[0]?.slice(1),
      'a bad body is refused as banned too, not 400',
    );
    const [, resendStatus, resendBody] = answers[2] ?? [];
    assert.equal(resendStatus, 403);
    assert.equal((resendBody as { name: string }).name, 'security_error');
    const [, postmarkStatus, postmarkBody] = answers[3] ?? [];
    assert.equal(postmarkStatus, 403);
    assert.equal((postmarkBody as { ErrorCode: number }).ErrorCode, 403);
  });

  it('a refusal of its own on the fast path keeps its answer (not banned, still valid)', async () => {
    const secret = await provenSecret('granted-narrowly');
    const response = await post('/v1/messages', message({ from: 'ceo@example.org' }), secret);
    assert.equal(response.status, 403);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      'sender_not_allowed',
    );
    const invalid = await post('/v1/messages', { from: 'orders@example.com' }, secret);
    assert.equal(invalid.status, 400);
    assert.ok(services.credentials.recentlyAuthenticated(secret), 'still on the fast path');
  });
});
