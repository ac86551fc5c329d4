import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SMTPServerSession } from 'smtp-server';
import type { AcceptDeps } from '../../src/intake/accept.js';
import { createSessionHandlers, type SessionDeps } from '../../src/intake/smtp/session.js';
import type { AbuseGuard } from '../../src/security/abuse-guard.js';
import type { Credential, CredentialStore } from '../../src/security/credentials/store.js';
import { silentLogger } from '../support/log-sink.js';

const credential: Credential = {
  id: 'cr_shop',
  generation: 1,
  name: 'shop',
  allowFrom: ['*@example.com'],
  allowTo: [],
  ratePerMinute: undefined,
  maxRecipients: undefined,
  createdAt: '',
  revoked: false,
};

function handlers(calls: string[]) {
  const deps: SessionDeps = {
    credentials: {
      authenticate: async (name: string, secret: string) => {
        calls.push(`authenticate ${name}`);
        return secret === 'right' ? credential : undefined;
      },
      isProvenSecret: () => false,
    } as unknown as CredentialStore,
    abuseGuard: {
      reserve: async (ip: string) => ({ ok: true, reservation: { ip, trusted: false } }),
      settle: async (_slot: unknown, outcome: { ok: boolean }) => {
        if (!outcome.ok) calls.push('recordFailure');
        return { allowed: outcome.ok, banned: false };
      },
    } as unknown as AbuseGuard,
    accept: { limits: { maxRecipients: 2, maxMessageBytes: 100 } } as AcceptDeps,
    logger: silentLogger,
  };
  return createSessionHandlers(deps);
}

function fakeSession(remoteAddress: string, secure: boolean): SMTPServerSession {
  return {
    id: 'test',
    remoteAddress,
    secure,
    envelope: { mailFrom: false, rcptTo: [] },
  } as unknown as SMTPServerSession;
}

function auth(h: ReturnType<typeof handlers>, session: SMTPServerSession, password: string) {
  return new Promise<{
    err: (Error & { responseCode?: number }) | null | undefined;
    user: unknown;
  }>((resolve) => {
    h.onAuth({ method: 'PLAIN', username: 'shop', password } as never, session, (err, response) =>
      resolve({ err, user: response?.user }),
    );
  });
}

describe('SMTP session handlers', () => {
  it('refuses AUTH in cleartext from a non-loopback client with 538 5.7.11, before any lookup', async () => {
    const calls: string[] = [];
    const h = handlers(calls);
    for (const ip of ['203.0.113.5', '::ffff:10.1.2.3', '2001:db8::1']) {
      const { err } = await auth(h, fakeSession(ip, false), 'right');
      assert.equal(err?.responseCode, 538, ip);
      assert.match(err?.message ?? '', /^5\.7\.11 /);
    }
    assert.deepEqual(calls, [], 'the secret is never checked in cleartext');
  });

  it('allows AUTH over TLS from anywhere and in cleartext from loopback', async () => {
    const h = handlers([]);
    for (const [ip, secure] of [
      ['203.0.113.5', true],
      ['127.0.0.1', false],
      ['::1', false],
    ] as const) {
      const { err, user } = await auth(h, fakeSession(ip, secure), 'right');
      assert.equal(err, null, ip);
      assert.equal(user, credential);
    }
  });

  it('counts failures per connection: 535 5.7.8 twice, then 421 4.7.0', async () => {
    const calls: string[] = [];
    const h = handlers(calls);
    const session = fakeSession('203.0.113.5', true);
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const { err } = await auth(h, session, 'wrong');
      codes.push(`${err?.responseCode} ${err?.message.slice(0, 5)}`);
    }
    assert.deepEqual(codes, ['535 5.7.8', '535 5.7.8', '421 4.7.0']);
    assert.equal(calls.filter((c) => c === 'recordFailure').length, 3);
    const other = await auth(h, fakeSession('203.0.113.6', true), 'wrong');
    assert.equal(other.err?.responseCode, 535, 'another connection starts at zero');
  });

  it('refuses MAIL and RCPT without an authenticated credential (530 5.7.0)', async () => {
    const h = handlers([]);
    const session = fakeSession('127.0.0.1', false);
    const mail = await new Promise<Error & { responseCode?: number }>((resolve) =>
      h.onMailFrom({ address: 'a@example.com', args: false }, session, (err) =>
        resolve(err as never),
      ),
    );
    assert.equal(mail.responseCode, 530);
    assert.match(mail.message, /^5\.7\.0 /);
    const rcpt = await new Promise<Error & { responseCode?: number }>((resolve) =>
      h.onRcptTo({ address: 'b@example.net', args: false }, session, (err) =>
        resolve(err as never),
      ),
    );
    assert.equal(rcpt.responseCode, 530);
  });
});
