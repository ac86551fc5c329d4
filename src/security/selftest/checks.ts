import { isIP } from 'node:net';
import { SmtpDialogue, type SmtpReply } from './smtp-dialogue.js';

export interface CheckResult {
  name: string;
  /** true = the door is closed (or the check does not apply: see skipped). */
  ok: boolean;
  skipped?: boolean;
  detail: string;
}

export interface Endpoint {
  host: string;
  port: number;
}

/**
 * A temporary credential the selftest may use, granted `*@domain` (a whole domain, so the
 * header probes can dress a forged sender up as one of its addresses); `sender` is one.
 */
export interface ProbeCredential {
  name: string;
  secret: string;
  sender: string;
  domain: string;
}

// Addresses under .invalid (RFC 2606) can never be delivered anywhere.
export const FOREIGN_SENDER = 'selftest@foreign-sender.invalid';
export const FOREIGN_RECIPIENT = 'victim@foreign-recipient.invalid';

export const summary = (reply: SmtpReply) =>
  reply.code === 0 ? 'connection closed' : `${reply.code} ${reply.text.split('\n')[0]}`;
export const refused = (reply: SmtpReply) => reply.code === 0 || reply.code >= 400;

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host.startsWith('::ffff:127.');
}

async function ehlo(dialogue: SmtpDialogue): Promise<SmtpReply> {
  return dialogue.command('EHLO selftest.postwarden.invalid');
}

/** Without AUTH, MAIL + RCPT to a foreign domain must be refused (before and after TLS). */
export async function checkOpenRelay(
  endpoint: Endpoint,
  implicitTls: boolean,
  label: string,
  required: boolean,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const phases: Array<'plain' | 'starttls'> = implicitTls ? ['plain'] : ['plain', 'starttls'];
  for (const phase of phases) {
    const name = `${label}: unauthenticated relay${implicitTls ? ' (implicit TLS)' : phase === 'starttls' ? ' after STARTTLS' : ''}`;
    try {
      const { dialogue, greeting } = await SmtpDialogue.open(endpoint.host, endpoint.port, {
        implicitTls,
      });
      if (refused(greeting)) {
        results.push({ name, ok: true, detail: `greeting refused: ${summary(greeting)}` });
        await dialogue.close();
        continue;
      }
      await ehlo(dialogue);
      if (phase === 'starttls') {
        const started = await dialogue.startTls();
        if (started.code !== 220) {
          results.push({ name, ok: false, detail: `STARTTLS not available: ${summary(started)}` });
          await dialogue.close();
          continue;
        }
        await ehlo(dialogue);
      }
      const mail = await dialogue.command(`MAIL FROM:<${FOREIGN_SENDER}>`);
      const rcpt = refused(mail) ? mail : await dialogue.command(`RCPT TO:<${FOREIGN_RECIPIENT}>`);
      const ok = refused(mail) || refused(rcpt);
      results.push({
        name,
        ok,
        detail: ok
          ? `refused: ${summary(refused(mail) ? mail : rcpt)}`
          : `OPEN: RCPT accepted: ${summary(rcpt)}`,
      });
      await dialogue.close();
    } catch (error) {
      // An unreachable required listener means nothing could be verified: not a pass.
      const detail = `not reachable: ${(error as Error).message}`;
      results.push(
        required ? { name, ok: false, detail } : { name, ok: true, skipped: true, detail },
      );
      break;
    }
  }
  return results;
}

/** AUTH must be neither advertised nor accepted before TLS, except for loopback clients. */
export async function checkAuthBeforeTls(endpoint: Endpoint, label: string): Promise<CheckResult> {
  const name = `${label}: AUTH before TLS`;
  if (isLoopbackHost(endpoint.host)) {
    return {
      name,
      ok: true,
      skipped: true,
      detail: 'listener is on loopback, where cleartext AUTH is allowed by design',
    };
  }
  try {
    const { dialogue } = await SmtpDialogue.open(endpoint.host, endpoint.port);
    const hello = await ehlo(dialogue);
    const advertised = hello.lines.some((line) => /^250[- ]AUTH\b/i.test(line));
    // A bogus credential: the server must refuse to even look at it without TLS.
    const auth = await dialogue.authPlain('selftest-nobody', 'not-a-secret');
    await dialogue.close();
    const ok = !advertised && auth.code !== 235 && auth.code !== 535 && auth.code !== 334;
    return {
      name,
      ok,
      detail: ok
        ? `refused: ${summary(auth)}`
        : `OPEN: AUTH ${advertised ? 'advertised' : 'evaluated'} before TLS (${summary(auth)})`,
    };
  } catch (error) {
    return { name, ok: true, skipped: true, detail: `not reachable: ${(error as Error).message}` };
  }
}

export async function authenticated(
  endpoint: Endpoint,
  credential: ProbeCredential,
): Promise<SmtpDialogue> {
  const { dialogue } = await SmtpDialogue.open(endpoint.host, endpoint.port);
  await ehlo(dialogue);
  const started = await dialogue.startTls();
  if (started.code === 220) await ehlo(dialogue);
  const auth = await dialogue.authPlain(credential.name, credential.secret);
  if (auth.code !== 235) {
    await dialogue.close();
    throw new Error(`the temporary credential could not log in: ${summary(auth)}`);
  }
  return dialogue;
}

export function message(from: string, extra = ''): string {
  return `From: ${from}\r\nTo: ${FOREIGN_RECIPIENT}\r\nSubject: postwarden selftest\r\n\r\nselftest${extra}\r\n`;
}

/** A credential must not send as an envelope sender or a From: it was not granted. */
export async function checkSpoofing(
  endpoint: Endpoint,
  credential: ProbeCredential,
  label: string,
): Promise<CheckResult[]> {
  const envelopeName = `${label}: ungranted envelope sender`;
  const headerName = `${label}: ungranted From: header`;
  try {
    const first = await authenticated(endpoint, credential);
    const mail = await first.command(`MAIL FROM:<${FOREIGN_SENDER}>`);
    let envelopeOk = refused(mail);
    if (!envelopeOk) {
      // Go on to prove it: a server that took MAIL might still refuse later.
      const rcpt = await first.command(`RCPT TO:<${FOREIGN_RECIPIENT}>`);
      envelopeOk = refused(rcpt);
    }
    await first.close();
    const second = await authenticated(endpoint, credential);
    await second.command(`MAIL FROM:<${credential.sender}>`);
    await second.command(`RCPT TO:<${FOREIGN_RECIPIENT}>`);
    const data = await second.command('DATA');
    const final = data.code === 354 ? await second.send(`${message(FOREIGN_SENDER)}.\r\n`) : data;
    await second.close();
    return [
      {
        name: envelopeName,
        ok: envelopeOk,
        detail: envelopeOk ? `refused: ${summary(mail)}` : `OPEN: accepted ${summary(mail)}`,
      },
      {
        name: headerName,
        ok: refused(final),
        detail: refused(final) ? `refused: ${summary(final)}` : `OPEN: queued ${summary(final)}`,
      },
    ];
  } catch (error) {
    const detail = `could not run: ${(error as Error).message}`;
    return [
      { name: envelopeName, ok: false, detail },
      { name: headerName, ok: false, detail },
    ];
  }
}

/** SMTP smuggling: a bare-LF end-of-data (`\n.\n`, `\n.\r\n`) must not end DATA or be queued. */
export async function checkSmuggling(
  endpoint: Endpoint,
  credential: ProbeCredential,
  label: string,
): Promise<CheckResult> {
  const name = `${label}: bare-LF smuggling`;
  try {
    const dialogue = await authenticated(endpoint, credential);
    await dialogue.command(`MAIL FROM:<${credential.sender}>`);
    await dialogue.command(`RCPT TO:<${FOREIGN_RECIPIENT}>`);
    const data = await dialogue.command('DATA');
    if (data.code !== 354) {
      await dialogue.close();
      return { name, ok: true, detail: `DATA refused: ${summary(data)}` };
    }
    const smuggled = `MAIL FROM:<${credential.sender}>\r\nRCPT TO:<${FOREIGN_RECIPIENT}>\r\nDATA\r\n`;
    const reply = await dialogue.send(`${message(credential.sender, `\n.\n${smuggled}`)}.\r\n`);
    await dialogue.close();
    const ok = refused(reply);
    return { name, ok, detail: ok ? `refused: ${summary(reply)}` : `OPEN: ${summary(reply)}` };
  } catch (error) {
    return { name, ok: false, detail: `could not run: ${(error as Error).message}` };
  }
}

async function status(
  url: string,
  init: RequestInit = {},
): Promise<{ code: number; location: string }> {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return { code: response.status, location: response.headers.get('location') ?? '' };
}

type HttpCase = [
  string,
  () => Promise<{ code: number; location: string }>,
  (s: { code: number; location: string }) => boolean,
];

/**
 * The compatible dialects (CONTRACT §Compatible APIs) are doors too: Resend's bearer and
 * Postmark's token header refuse a missing and a revoked secret (Resend says 403 for a
 * wrong key). A relay without them answers 404: no door, closed.
 */
function dialectCases(base: string, resendBody: string, revokedSecret: string): HttpCase[] {
  const json = { 'content-type': 'application/json' };
  const postmarkBody = JSON.stringify({
    From: FOREIGN_SENDER,
    To: FOREIGN_RECIPIENT,
    Subject: 'selftest',
    TextBody: 'selftest',
  });
  const resend = (headers: Record<string, string>) =>
    status(`${base}/emails`, {
      method: 'POST',
      headers: { ...json, ...headers },
      body: resendBody,
    });
  const postmark = (headers: Record<string, string>) =>
    status(`${base}/email`, {
      method: 'POST',
      headers: { ...json, ...headers },
      body: postmarkBody,
    });
  const refused = (s: { code: number }) => s.code === 401 || s.code === 403 || s.code === 404;
  return [
    ['http: POST /emails (Resend) without a secret', () => resend({}), refused],
    [
      'http: POST /emails (Resend) with a revoked secret',
      () => resend({ authorization: `Bearer ${revokedSecret}` }),
      refused,
    ],
    ['http: POST /email (Postmark) without a token', () => postmark({}), refused],
    [
      'http: POST /email (Postmark) with a revoked token',
      () => postmark({ 'x-postmark-server-token': revokedSecret }),
      refused,
    ],
  ];
}

/** The HTTP API refuses a missing and a revoked secret; the admin needs a session. */
export async function checkHttp(httpUrl: string, revokedSecret: string): Promise<CheckResult[]> {
  const base = httpUrl.replace(/\/$/, '');
  const body = JSON.stringify({
    from: FOREIGN_SENDER,
    to: [FOREIGN_RECIPIENT],
    subject: 'selftest',
    text: 'selftest',
  });
  const post = (headers: Record<string, string>) =>
    status(`${base}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const results: CheckResult[] = [];
  const cases: Array<
    [
      string,
      () => Promise<{ code: number; location: string }>,
      (s: { code: number; location: string }) => boolean,
    ]
  > = [
    ['http: POST /v1/messages without a secret', () => post({}), (s) => s.code === 401],
    [
      'http: POST /v1/messages with a revoked secret',
      () => post({ authorization: `Bearer ${revokedSecret}` }),
      (s) => s.code === 401 || s.code === 403,
    ],
    ...dialectCases(base, body, revokedSecret),
    [
      'admin: /admin without a session',
      () => status(`${base}/admin`),
      (s) =>
        s.code === 401 ||
        s.code === 404 ||
        (s.code >= 300 && s.code < 400 && s.location.includes('/admin/login')),
    ],
    [
      'admin: /admin/api without a session',
      () => status(`${base}/admin/api/stats`),
      (s) => s.code === 401 || s.code === 404,
    ],
  ];
  for (const [name, run, closed] of cases) {
    try {
      const result = await run();
      const ok = closed(result);
      results.push({
        name,
        ok,
        detail: `${ok ? 'refused' : 'OPEN'}: HTTP ${result.code}${result.location ? ` → ${result.location}` : ''}`,
      });
    } catch (error) {
      results.push({ name, ok: false, detail: `not reachable: ${(error as Error).message}` });
    }
  }
  return results;
}
