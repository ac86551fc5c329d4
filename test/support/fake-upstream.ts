import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerError,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import type { TlsPair } from '../../src/runtime/tls.js';

export interface FakeUpstreamOptions {
  /** The server's certificate (any mode but plain); clients trust its `cert` as their CA. */
  tls?: TlsPair;
  /** starttls (default): offers STARTTLS; implicit: TLS from the first byte; plain: no TLS at all. */
  mode?: 'starttls' | 'implicit' | 'plain';
  /** Require AUTH with these credentials (only over TLS unless mode is plain). */
  requireAuth?: { user: string; pass: string };
  /**
   * Reply to RCPT TO; `attemptNo` counts RCPTs for this address, from 1. Default 250. A
   * string is a whole reply line (`550 5.1.1 user unknown`), for enhanced status codes.
   */
  rcpt?: (address: string, attemptNo: number) => number | string;
  /** Reply to the end of DATA; `attemptNo` counts DATA phases, from 1. Default 250. */
  data?: (recipients: string[], attemptNo: number) => number;
  /** Wait this long before answering the end of DATA (a slow upstream; a backlog builds up). */
  dataDelayMs?: number;
  /** Reply to MAIL FROM; `mailNo` counts MAIL FROMs on this connection, from 1. Default 250. */
  mail?: (mailNo: number) => number;
  /** Idle time after which the server ends a session with 421 (smtp-server's socketTimeout). */
  idleTimeoutMs?: number;
}

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** The header block as received (latin1), for header assertions. */
  head: string;
  subject: string;
  messageId: string;
  /** The end-of-DATA reply code we gave. */
  reply: number;
  secure: boolean;
  user: string | undefined;
  /** Date.now() when the message was recorded (just before its reply went out). */
  receivedAt: number;
}

export interface FakeUpstream {
  host: string;
  port: number;
  /** An upstream URL for the relay: smtp:// (starttls), smtps:// (implicit), ?tls=off (plain). */
  url: string;
  /** Every message that reached the end of DATA, accepted or not. */
  received: ReceivedMessage[];
  /** Messages accepted (2xx after DATA) per Subject: with a token per Subject, duplicates show. */
  subjects: Map<string, number>;
  /** How many times a message for `address` was accepted (2xx after DATA): duplicates show. */
  deliveriesTo(address: string): number;
  rcptAttempts(address: string): number;
  authAttempts: number;
  /** Connections accepted so far. */
  connections: number;
  /** Connections open now. */
  openConnections: number;
  /** Change the scripts mid-test (the upstream is "fixed"). */
  script(update: Pick<FakeUpstreamOptions, 'rcpt' | 'data' | 'dataDelayMs'>): void;
  close(): Promise<void>;
}

function smtpError(code: number, text: string): SMTPServerError {
  const error: SMTPServerError = new Error(text);
  error.responseCode = code;
  return error;
}

function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A header field's value, unfolded ('' when absent). */
function headerField(head: string, name: string): string {
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(head);
  return match?.[1]?.replace(/\r\n[ \t]/g, ' ').trim() ?? '';
}

/**
 * A real smtp-server on 127.0.0.1, port 0, as the relay's upstream: STARTTLS, implicit TLS
 * or cleartext, AUTH if asked for, scripted reply codes (250 unless scripted), recording
 * and counting every message it gets. Unscripted and plain, it is the sink that spawned
 * relays deliver to in durability, fault and security tests.
 */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const mode = options.mode ?? 'starttls';
  if (mode !== 'plain' && !options.tls) throw new Error(`a ${mode} fake upstream needs tls`);
  const scripts = { rcpt: options.rcpt, data: options.data, dataDelayMs: options.dataDelayMs };
  const rcptCounts = new Map<string, number>();
  let dataCount = 0;
  const received: ReceivedMessage[] = [];
  const subjects = new Map<string, number>();
  const fake = { authAttempts: 0, connections: 0, openConnections: 0 };
  const mailCounts = new Map<string, number>();
  const disabled = [
    ...(mode === 'plain' ? ['STARTTLS'] : []),
    ...(options.requireAuth ? [] : ['AUTH']),
  ];
  const serverOptions: SMTPServerOptions = {
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    secure: mode === 'implicit',
    disableReverseLookup: true,
    logger: false,
    disabledCommands: disabled,
    authOptional: !options.requireAuth,
    allowInsecureAuth: mode === 'plain',
    authMethods: ['PLAIN', 'LOGIN'],
    ...(options.idleTimeoutMs ? { socketTimeout: options.idleTimeoutMs } : {}),
    onConnect(_session, callback) {
      fake.connections += 1;
      fake.openConnections += 1;
      callback();
    },
    onClose(session) {
      fake.openConnections -= 1;
      mailCounts.delete(session.id);
    },
    onMailFrom(_address, session, callback) {
      const mailNo = (mailCounts.get(session.id) ?? 0) + 1;
      mailCounts.set(session.id, mailNo);
      const code = options.mail?.(mailNo) ?? 250;
      if (code >= 200 && code < 300) callback();
      else callback(smtpError(code, 'scripted reply to MAIL FROM'));
    },
    onAuth(auth: SMTPServerAuthentication, _session, callback) {
      fake.authAttempts += 1;
      const want = options.requireAuth;
      if (want && auth.username === want.user && auth.password === want.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(smtpError(535, 'Authentication failed'));
      }
    },
    onRcptTo(address, _session, callback) {
      const key = address.address.toLowerCase();
      const attemptNo = (rcptCounts.get(key) ?? 0) + 1;
      rcptCounts.set(key, attemptNo);
      const reply = scripts.rcpt?.(key, attemptNo) ?? 250;
      const line = typeof reply === 'string' ? /^(\d{3}) (.*)$/.exec(reply) : null;
      const code = line ? Number(line[1]) : Number(reply);
      if (code >= 200 && code < 300) callback();
      else callback(smtpError(code, line?.[2] ?? `scripted reply for ${key}`));
    },
    onData(stream, session: SMTPServerSession, callback) {
      void readAll(stream).then(async (raw) => {
        dataCount += 1;
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase());
        const code = scripts.data?.(to, dataCount) ?? 250;
        if (scripts.dataDelayMs) await new Promise((r) => setTimeout(r, scripts.dataDelayMs));
        const end = raw.indexOf('\r\n\r\n');
        const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
        const subject = headerField(head, 'Subject');
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to,
          raw,
          head,
          subject,
          messageId: headerField(head, 'Message-ID'),
          reply: code,
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          receivedAt: Date.now(),
        });
        if (code >= 200 && code < 300) subjects.set(subject, (subjects.get(subject) ?? 0) + 1);
        if (code >= 200 && code < 300) callback(null, `Ok: fake queued ${dataCount}`);
        else callback(smtpError(code, 'scripted end-of-data reply'));
      }, callback);
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const scheme = { starttls: 'smtp://', implicit: 'smtps://', plain: 'smtp://' }[mode];
  return {
    host: '127.0.0.1',
    port,
    url: `${scheme}127.0.0.1:${port}${mode === 'plain' ? '?tls=off' : ''}`,
    received,
    subjects,
    deliveriesTo: (addr) =>
      received.filter((m) => m.reply >= 200 && m.reply < 300 && m.to.includes(addr.toLowerCase()))
        .length,
    rcptAttempts: (addr) => rcptCounts.get(addr.toLowerCase()) ?? 0,
    get authAttempts() {
      return fake.authAttempts;
    },
    get connections() {
      return fake.connections;
    },
    get openConnections() {
      return fake.openConnections;
    },
    script(update) {
      Object.assign(scripts, update);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
