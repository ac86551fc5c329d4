import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CountingSink {
  port: number;
  /** `smtp://127.0.0.1:<port>?tls=off` — the upstream both systems relay to. */
  url: string;
  /** The Subject of every message taken, in order of arrival. */
  subjects: string[];
  /** Messages taken per Subject (every message's Subject is unique: duplicates show). */
  counts: Map<string, number>;
  close(): Promise<void>;
}

/**
 * The benchmark's upstream: a cleartext smtp-server on 127.0.0.1 that takes everything
 * and keeps only each message's Subject (never the body: a backlog of 100,000 messages
 * or a 25 MB one must cost the sink nothing to hold), answering as soon as it has it.
 */
export async function startCountingSink(): Promise<CountingSink> {
  const subjects: string[] = [];
  const counts = new Map<string, number>();
  const server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 100 * 1024 * 1024,
    maxClients: 1000,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (!head.includes('\r\n\r\n')) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const header = head.split('\r\n\r\n')[0] ?? '';
        const subject = /^Subject:[ \t]*(.*)$/im.exec(header)?.[1]?.trim() ?? '';
        subjects.push(subject);
        counts.set(subject, (counts.get(subject) ?? 0) + 1);
        callback();
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
    subjects,
    counts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
