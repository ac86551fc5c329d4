import net from 'node:net';
import tls from 'node:tls';

/** What the upstream does with a MAIL FROM, a RCPT TO or a final dot. */
export type Act =
  | { kind: 'reply'; code: number; text?: string }
  /** Reply `code` (e.g. 421) and close the connection at once. */
  | { kind: 'reply-and-close'; code: number }
  /** Drop the TCP connection without a reply. */
  | { kind: 'disconnect' }
  /** Never answer (the client's socket timeout must fire). */
  | { kind: 'silent' }
  /** Wait `ms`, then act as `then` (a slow upstream whose answer comes late). */
  | { kind: 'delayed'; ms: number; then: Act };

/** A plain reply, e.g. `reply(450, '4.7.1 greylisted, try again later')`. */
export function reply(code: number, text?: string): Act {
  return text === undefined ? { kind: 'reply', code } : { kind: 'reply', code, text };
}

/** Where in a session a MAIL FROM or a final dot comes. */
export interface SessionPoint {
  /** Connections accepted so far, this one included (from 1). */
  connectionNo: number;
  /** MAIL FROMs on this connection so far, this transaction's included (from 1). */
  mailNo: number;
}

/** One final dot: where it came, which it was overall (from 1), and its message's Subject. */
export interface DotPoint extends SessionPoint {
  attemptNo: number;
  subject: string;
}

/** What the upstream did after a final dot (a `delayed` act is recorded by what it did last). */
export interface DotRecord extends DotPoint {
  did: 'reply' | 'reply-and-close' | 'disconnect' | 'silent';
  code?: number;
  /** For `silent`: ms from the dot until the client gave up and closed the connection. */
  silentForMs?: number;
}

/**
 * How EHLO and STARTTLS go: `none` — STARTTLS is not offered and refused if tried (a
 * man-in-the-middle stripping it); `refuse` — offered, then answered 454; a key and
 * certificate — offered and done (a proper upstream).
 */
export type StartTlsMode = 'none' | 'refuse' | { key: string; cert: string };

export interface MisbehavingUpstreamOptions {
  /** 0 (default) picks a free port; a fixed one lets a test turn "no listener" into one. */
  port?: number;
  mail?: (at: SessionPoint) => Act;
  /** `attemptNo` counts RCPTs for this (lower-cased) address, from 1. */
  rcpt?: (address: string, attemptNo: number) => Act;
  data?: (at: DotPoint) => Act;
  /** STARTTLS behaviour at start (default `none`); `setStartTls` changes it later. */
  starttls?: StartTlsMode;
}

/** One command the upstream received: its verb only (never arguments) and whether over TLS. */
export interface SeenCommand {
  verb: string;
  secure: boolean;
}

export interface MisbehavingUpstream {
  port: number;
  /** `smtp://127.0.0.1:<port>?tls=off`. */
  url: string;
  readonly connections: number;
  readonly openConnections: number;
  /** Subjects of the messages answered 2xx after the dot (one entry each time: duplicates show). */
  accepted: string[];
  /** Subjects of every message whose final dot arrived, whatever followed. */
  received: string[];
  /** What followed each final dot, in the order it happened. */
  dots: DotRecord[];
  timesAccepted(subject: string): number;
  timesReceived(subject: string): number;
  /** RCPT TO commands seen for this address (lower-cased). */
  rcptAttempts(address: string): number;
  /** Every command verb received, in order, with the connection's TLS state at the time. */
  commands: SeenCommand[];
  /** Acts scheduled for later (`delayed`) and not done yet. */
  pendingReplies(): number;
  setStartTls(mode: StartTlsMode): void;
  close(): Promise<void>;
}

const OK: Act = { kind: 'reply', code: 250 };

/**
 * A hand-written SMTP upstream on a raw socket, 127.0.0.1 (no PIPELINING, so the client
 * waits for each reply), for what smtp-server cannot be made to do: stay silent, drop the
 * connection without a word at MAIL FROM or after the final dot, answer after the client
 * was frozen, hide or refuse STARTTLS. MAIL FROM, RCPT TO and the final dot are scripted
 * per connection, per transaction, per attempt and per Subject; everything is 250 unless
 * scripted otherwise.
 */
export async function startMisbehavingUpstream(
  options: MisbehavingUpstreamOptions = {},
): Promise<MisbehavingUpstream> {
  const accepted: string[] = [];
  const received: string[] = [];
  const dots: DotRecord[] = [];
  const commands: SeenCommand[] = [];
  const sockets = new Set<net.Socket>();
  const rcptCounts = new Map<string, number>();
  let starttls: StartTlsMode = options.starttls ?? 'none';
  let connections = 0;
  let attempts = 0;
  let pending = 0;

  /** Do `act` on `socket`; `ok` is the text of a 250 when the script gave none. */
  const perform = (socket: net.Socket, act: Act, ok: string, dot?: DotPoint): void => {
    if (act.kind === 'delayed') {
      pending += 1;
      setTimeout(() => {
        pending -= 1;
        perform(socket, act.then, ok, dot);
      }, act.ms);
      return;
    }
    if (act.kind === 'silent') {
      if (!dot) return;
      const record: DotRecord = { ...dot, did: 'silent' };
      const at = Date.now();
      dots.push(record);
      socket.once('close', () => {
        record.silentForMs = Date.now() - at;
      });
      return;
    }
    if (socket.destroyed) return;
    if (dot) {
      const code = act.kind === 'disconnect' ? {} : { code: act.code };
      dots.push({ ...dot, did: act.kind, ...code });
      if (act.kind === 'reply' && act.code < 300) accepted.push(dot.subject);
    }
    if (act.kind === 'disconnect') socket.destroy();
    else if (act.kind === 'reply-and-close') socket.end(`${act.code} 4.3.2 scripted, closing\r\n`);
    else socket.write(`${act.code} ${act.text ?? (act.code === 250 ? ok : 'scripted')}\r\n`);
  };

  /** One SMTP session on `socket` (plain, or the TLS socket after STARTTLS). */
  const serve = (socket: net.Socket, secure: boolean, connectionNo: number): void => {
    let buffer = '';
    let inData = false;
    let mailNo = 0;
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      while (!socket.destroyed) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) return;
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          attempts += 1;
          const subject = /^Subject:[ \t]*(.*)$/im.exec(message)?.[1]?.trim() ?? '';
          received.push(subject);
          const dot = { connectionNo, mailNo, attemptNo: attempts, subject };
          perform(socket, options.data?.(dot) ?? OK, '2.0.0 queued', dot);
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol === -1) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = (line.split(' ')[0] ?? '').toUpperCase();
        commands.push({ verb, secure });
        if (verb === 'EHLO') {
          const offer = !secure && starttls !== 'none' ? '250-STARTTLS\r\n' : '';
          socket.write(`250-upstream.test\r\n${offer}250 8BITMIME\r\n`);
        } else if (verb === 'STARTTLS') {
          const mode = starttls;
          if (secure || mode === 'none') socket.write('502 5.5.1 unrecognized command\r\n');
          else if (mode === 'refuse') socket.write('454 4.7.0 TLS not available\r\n');
          else {
            // Anything pipelined after STARTTLS in cleartext is discarded (RFC 3207 §4.2).
            socket.off('data', onData);
            buffer = '';
            socket.write('220 2.0.0 ready to start TLS\r\n');
            const secured = new tls.TLSSocket(socket, { isServer: true, ...mode });
            secured.on('error', () => socket.destroy());
            serve(secured, true, connectionNo);
            return;
          }
        } else if (verb === 'MAIL') {
          mailNo += 1;
          perform(socket, options.mail?.({ connectionNo, mailNo }) ?? OK, '2.1.0 ok');
        } else if (verb === 'RCPT') {
          const address = (/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase();
          const attemptNo = (rcptCounts.get(address) ?? 0) + 1;
          rcptCounts.set(address, attemptNo);
          perform(socket, options.rcpt?.(address, attemptNo) ?? OK, '2.1.5 ok');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    };
    socket.on('data', onData);
  };

  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('220 upstream.test ESMTP\r\n');
    serve(socket, false, connections);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const count = (list: string[], subject: string) => list.filter((s) => s === subject).length;
  return {
    port,
    url: `smtp://127.0.0.1:${port}?tls=off`,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    accepted,
    received,
    dots,
    timesAccepted: (subject) => count(accepted, subject),
    timesReceived: (subject) => count(received, subject),
    rcptAttempts: (address) => rcptCounts.get(address.toLowerCase()) ?? 0,
    commands,
    pendingReplies: () => pending,
    setStartTls(mode) {
      starttls = mode;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
