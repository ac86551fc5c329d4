import net from 'node:net';

/** What the peer does with one MAIL FROM or end of DATA. */
export type PeerAct = 'ok' | 'disconnect' | { code: number };

export interface SessionPeerScript {
  /** `connectionNo` counts connections from 1, `mailNo` the MAIL FROMs on that connection. */
  mail?: (connectionNo: number, mailNo: number) => PeerAct;
  data?: (connectionNo: number, mailNo: number) => PeerAct;
}

export interface SessionPeer {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open now. */
  readonly openConnections: number;
  /** Subjects of the messages answered 250 (one entry per acceptance: duplicates show). */
  accepted: string[];
  /** Subjects of every message whose final dot arrived, whatever the answer. */
  received: string[];
  close(): Promise<void>;
}

/**
 * A raw cleartext SMTP peer on 127.0.0.1 (no PIPELINING, so the client waits for each
 * reply) whose answers to MAIL FROM and to the final dot are scripted per connection and
 * per transaction on it — it can drop a connection without a word at either point, which
 * smtp-server cannot.
 */
export async function startSessionPeer(script: SessionPeerScript = {}): Promise<SessionPeer> {
  const accepted: string[] = [];
  const received: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    const connectionNo = connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let inData = false;
    let mailNo = 0;
    const act = (what: PeerAct, ok: string): boolean => {
      if (what === 'disconnect') {
        socket.destroy();
        return false;
      }
      socket.write(what === 'ok' ? ok : `${what.code} scripted\r\n`);
      return true;
    };
    socket.write('220 peer.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      while (!socket.destroyed) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) return;
          const subject = /^Subject:[ \t]*(.*)$/im.exec(buffer.slice(0, end))?.[1]?.trim() ?? '';
          buffer = buffer.slice(end + 5);
          inData = false;
          received.push(subject);
          const what = script.data?.(connectionNo, mailNo) ?? 'ok';
          if (what === 'ok' || (typeof what === 'object' && what.code < 300))
            accepted.push(subject);
          act(what, '250 2.0.0 queued\r\n');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol === -1) return;
        const verb = buffer.slice(0, eol).split(' ')[0]?.toUpperCase();
        buffer = buffer.slice(eol + 2);
        if (verb === 'EHLO') socket.write('250-peer.test\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') {
          mailNo += 1;
          act(script.mail?.(connectionNo, mailNo) ?? 'ok', '250 2.1.0 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    accepted,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
