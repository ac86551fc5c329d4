import net from 'node:net';

/** What the upstream does at the end of DATA: a reply code, or a fault. */
export type DataBehaviour =
  | { kind: 'reply'; code: number }
  /** Reply `code` (e.g. 421) and close the connection at once. */
  | { kind: 'reply-and-close'; code: number }
  /** Drop the TCP connection without a reply. */
  | { kind: 'disconnect' }
  /** Never answer (the relay's socket timeout must fire). */
  | { kind: 'silent' };

export interface ScriptedUpstream {
  port: number;
  url: string;
  /** Subjects of the messages answered 250 (one entry per acceptance: duplicates show). */
  accepted: string[];
  /** How many end-of-DATA were reached, whatever the reply. */
  dataCount(): number;
  close(): Promise<void>;
}

/**
 * A raw cleartext SMTP upstream on 127.0.0.1 whose end-of-DATA behaviour is scripted per
 * attempt (1-based) — faults smtp-server cannot produce (silence, a bare disconnect).
 * `port` 0 picks a free one; a fixed port lets a test make "no listener" become one.
 */
export async function startScriptedUpstream(
  behaviour: (attemptNo: number) => DataBehaviour,
  port = 0,
): Promise<ScriptedUpstream> {
  const accepted: string[] = [];
  const sockets = new Set<net.Socket>();
  let attempts = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let inData = false;
    socket.write('220 scripted.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      while (true) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) return;
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          attempts += 1;
          const act = behaviour(attempts);
          const subject = /^Subject:[ \t]*(.*)$/im.exec(message)?.[1]?.trim() ?? '';
          if (act.kind === 'reply') {
            if (act.code >= 200 && act.code < 300) accepted.push(subject);
            socket.write(`${act.code} scripted\r\n`);
          } else if (act.kind === 'reply-and-close') {
            socket.end(`${act.code} 4.3.2 scripted, closing\r\n`);
          } else if (act.kind === 'disconnect') {
            socket.destroy();
          }
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol === -1) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-scripted.test\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
