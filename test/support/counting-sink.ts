import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  size: number;
  /** The header block as received (latin1), for header assertions. */
  head: string;
  /** Date.now() when the sink took the message (before its 250 went out). */
  receivedAt: number;
}

export interface CountingSink {
  port: number;
  /** `smtp://127.0.0.1:<port>?tls=off` — a local cleartext test upstream. */
  url: string;
  messages: SinkMessage[];
  /** Count of deliveries per Subject (tokens make duplicates visible). */
  subjects: Map<string, number>;
  close(): Promise<void>;
}

function header(head: string, name: string): string {
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(head);
  return match?.[1]?.replace(/\r\n[ \t]/g, ' ').trim() ?? '';
}

/**
 * A cleartext local SMTP sink that accepts everything and counts it — the upstream for
 * durability tests and benchmarks. `delayMs` makes it slow (a backlog builds up in the
 * relay's queue). It only ever listens on 127.0.0.1.
 */
export async function startCountingSink(options: { delayMs?: number } = {}): Promise<CountingSink> {
  const messages: SinkMessage[] = [];
  const subjects = new Map<string, number>();
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 100 * 1024 * 1024,
    maxClients: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const end = raw.indexOf('\r\n\r\n');
        const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
        const subject = header(head, 'Subject');
        const record = () => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            subject,
            messageId: header(head, 'Message-ID'),
            size: raw.length,
            head,
            receivedAt: Date.now(),
          });
          subjects.set(subject, (subjects.get(subject) ?? 0) + 1);
          callback();
        };
        if (options.delayMs) setTimeout(record, options.delayMs);
        else record();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}?tls=off`,
    messages,
    subjects,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
