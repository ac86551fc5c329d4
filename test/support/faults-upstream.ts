import net from 'node:net';
import tls from 'node:tls';

/** What the upstream does at the end of DATA: a reply code, or a fault. */
export type DataBehaviour =
  | { kind: 'reply'; code: number }
  /** Reply `code` (e.g. 421) and close the connection at once. */
  | { kind: 'reply-and-close'; code: number }
  /** Drop the TCP connection without a reply. */
  | { kind: 'disconnect' }
  /** Never answer (the relay's socket timeout must fire). */
  | { kind: 'silent' }
  /** Wait `ms`, then behave as `then` (a slow upstream whose answer comes late). */
  | { kind: 'delayed'; ms: number; then: DataBehaviour };

/** The reply to one RCPT TO (e.g. greylisting: `450` + `4.7.1 greylisted, try again later`). */
export interface RcptReply {
  code: number;
  text?: string;
}

/**
 * How EHLO and STARTTLS go: `none` — STARTTLS is not offered and refused if tried (a
 * man-in-the-middle stripping it); `refuse` — offered, then answered 454; a key and
 * certificate — offered and done (a proper upstream).
 */
export type StartTlsMode = 'none' | 'refuse' | { key: string; cert: string };

export interface ScriptedUpstreamOptions {
  /** RCPT TO replies; `attemptNo` counts RCPTs for this (lower-cased) address, from 1. */
  rcpt?: (address: string, attemptNo: number) => RcptReply;
  /** STARTTLS behaviour at start (default `none`); `setStartTls` changes it later. */
  starttls?: StartTlsMode;
}

/** One command the upstream received: its verb only (never arguments) and whether over TLS. */
export interface SeenCommand {
  verb: string;
  secure: boolean;
}

export interface ScriptedUpstream {
  port: number;
  url: string;
  /** Subjects of the messages answered 250 (one entry per acceptance: duplicates show). */
  accepted: string[];
  /** How many end-of-DATA were reached, whatever the reply. */
  dataCount(): number;
  /** End-of-DATA reached for messages with this Subject, whatever the reply. */
  dataCountFor(subject: string): number;
  /** RCPT TO commands seen for this address (lower-cased). */
  rcptAttempts(address: string): number;
  /** Every command verb received, in order, with the connection's TLS state at the time. */
  commands: SeenCommand[];
  /** End-of-DATA replies scheduled for later (`delayed`) and not sent yet. */
  pendingReplies(): number;
  setStartTls(mode: StartTlsMode): void;
  close(): Promise<void>;
}

/**
 * A raw SMTP upstream on 127.0.0.1 whose end-of-DATA behaviour is scripted per attempt
 * (1-based; the Subject is passed too) — faults smtp-server cannot produce (silence, a bare
 * disconnect, a reply arriving after the client was frozen). Optionally scripted RCPT
 * replies and a STARTTLS that is stripped, refused or real.
 * `port` 0 picks a free one; a fixed port lets a test make "no listener" become one.
 */
export async function startScriptedUpstream(
  behaviour: (attemptNo: number, subject: string) => DataBehaviour,
  port = 0,
  options: ScriptedUpstreamOptions = {},
): Promise<ScriptedUpstream> {
  const accepted: string[] = [];
  const commands: SeenCommand[] = [];
  const sockets = new Set<net.Socket>();
  const dataBySubject = new Map<string, number>();
  const rcptCounts = new Map<string, number>();
  let starttls: StartTlsMode = options.starttls ?? 'none';
  let attempts = 0;
  let pending = 0;

  const finishData = (socket: net.Socket, act: DataBehaviour, subject: string): void => {
    if (act.kind === 'reply') {
      if (socket.destroyed) return;
      if (act.code >= 200 && act.code < 300) accepted.push(subject);
      socket.write(`${act.code} scripted\r\n`);
    } else if (act.kind === 'reply-and-close') {
      socket.end(`${act.code} 4.3.2 scripted, closing\r\n`);
    } else if (act.kind === 'disconnect') {
      socket.destroy();
    } else if (act.kind === 'delayed') {
      pending += 1;
      setTimeout(() => {
        pending -= 1;
        finishData(socket, act.then, subject);
      }, act.ms);
    }
  };

  /** One SMTP session on `socket` (plain, or the TLS socket after STARTTLS). */
  const serve = (socket: net.Socket, secure: boolean): void => {
    let buffer = '';
    let inData = false;
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      while (true) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) return;
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          attempts += 1;
          const subject = /^Subject:[ \t]*(.*)$/im.exec(message)?.[1]?.trim() ?? '';
          dataBySubject.set(subject, (dataBySubject.get(subject) ?? 0) + 1);
          finishData(socket, behaviour(attempts, subject), subject);
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
          socket.write(`250-scripted.test\r\n${offer}250 8BITMIME\r\n`);
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
            serve(secured, true);
            return;
          }
        } else if (verb === 'RCPT') {
          const address = (/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase();
          const attemptNo = (rcptCounts.get(address) ?? 0) + 1;
          rcptCounts.set(address, attemptNo);
          const reply = options.rcpt?.(address, attemptNo) ?? { code: 250 };
          socket.write(`${reply.code} ${reply.text ?? 'scripted'}\r\n`);
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
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('220 scripted.test ESMTP\r\n');
    serve(socket, false);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  return {
    port: bound,
    url: `smtp://127.0.0.1:${bound}?tls=off`,
    accepted,
    dataCount: () => attempts,
    dataCountFor: (subject) => dataBySubject.get(subject) ?? 0,
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
