import net from 'node:net';
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
  tls: TlsPair;
  /** starttls (default): offers STARTTLS; implicit: TLS from the first byte; plain: no TLS at all. */
  mode?: 'starttls' | 'implicit' | 'plain';
  /** Require AUTH with these credentials (only over TLS unless mode is plain). */
  requireAuth?: { user: string; pass: string };
  /** Reply to RCPT TO; `attemptNo` counts RCPTs for this address, from 1. Default 250. */
  rcpt?: (address: string, attemptNo: number) => number;
  /** Reply to the end of DATA; `attemptNo` counts DATA phases, from 1. Default 250. */
  data?: (recipients: string[], attemptNo: number) => number;
  /** Wait this long before answering the end of DATA (a slow upstream). */
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
  messageId: string | undefined;
  /** The end-of-DATA reply code we gave. */
  reply: number;
  secure: boolean;
  user: string | undefined;
}

export interface FakeUpstream {
  host: string;
  port: number;
  /** Every message that reached the end of DATA, accepted or not. */
  received: ReceivedMessage[];
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

function messageIdOf(raw: Buffer): string | undefined {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  return /^Message-ID:\s*(.+)$/im.exec(head)?.[1]?.trim();
}

/** A real smtp-server on 127.0.0.1, port 0, with scripted replies, recording what it gets. */
export async function startFakeUpstream(options: FakeUpstreamOptions): Promise<FakeUpstream> {
  const mode = options.mode ?? 'starttls';
  const scripts = { rcpt: options.rcpt, data: options.data, dataDelayMs: options.dataDelayMs };
  const rcptCounts = new Map<string, number>();
  let dataCount = 0;
  const received: ReceivedMessage[] = [];
  const fake = { authAttempts: 0, connections: 0, openConnections: 0 };
  const mailCounts = new Map<string, number>();
  const disabled = [
    ...(mode === 'plain' ? ['STARTTLS'] : []),
    ...(options.requireAuth ? [] : ['AUTH']),
  ];
  const serverOptions: SMTPServerOptions = {
    key: options.tls.key,
    cert: options.tls.cert,
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
      const code = scripts.rcpt?.(key, attemptNo) ?? 250;
      if (code >= 200 && code < 300) callback();
      else callback(smtpError(code, `scripted reply for ${key}`));
    },
    onData(stream, session: SMTPServerSession, callback) {
      void readAll(stream).then(async (raw) => {
        dataCount += 1;
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase());
        const code = scripts.data?.(to, dataCount) ?? 250;
        if (scripts.dataDelayMs) await new Promise((r) => setTimeout(r, scripts.dataDelayMs));
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to,
          raw,
          messageId: messageIdOf(raw),
          reply: code,
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        if (code >= 200 && code < 300) callback(null, `Ok: fake queued ${dataCount}`);
        else callback(smtpError(code, 'scripted end-of-data reply'));
      }, callback);
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port: address.port,
    received,
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

/** A loopback port with no listener: connecting to it is refused. */
export async function refusingPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
