import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A logger that writes nothing, for code under test whose logs the test does not read. */
export const silentLogger: Logger = pino({ level: 'silent' });

export interface LogSink {
  /** Give this to the logger (pino's destination, or createLogger's stream). */
  stream: Writable;
  /** Every line written so far, as written (one JSON object each). */
  lines: string[];
  /** The same lines parsed, for assertions on fields (`event`, `ip`, `user`...). */
  records: Record<string, unknown>[];
  /** An info-level pino logger writing here. */
  logger: Logger;
}

/** Captures a logger's output line by line, so a test can read what was logged. */
export function createLogSink(): LogSink {
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete.filter((each) => each.trim() !== '')) {
        lines.push(line);
        records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines, records, logger: pino({ level: 'info' }, stream) };
}
