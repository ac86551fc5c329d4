import { Readable } from 'node:stream';

/**
 * A message body that is read as a stream rather than held whole: the queued body in
 * Redis, read a range at a time (queue/body-reader.ts), so a 25 MB message is never one
 * 25 MB reply in the delivering process. `open()` may be called again for a second try
 * (a stale upstream session); each call reads from the start.
 */
export interface BodySource {
  readonly size: number;
  open(): Readable;
}

/** The bytes of a message to send: in memory, or a source to stream from. */
export type MessageBytes = Buffer | BodySource;

export function bodySize(bytes: MessageBytes): number {
  return Buffer.isBuffer(bytes) ? bytes.length : bytes.size;
}

/** A stream of the bytes (one chunk for a Buffer). */
export function openBody(bytes: MessageBytes): Readable {
  return Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes.open();
}

/** The whole body in memory (the admin's message view; delivery streams instead). */
export async function readAll(bytes: MessageBytes): Promise<Buffer> {
  if (Buffer.isBuffer(bytes)) return bytes;
  const chunks: Buffer[] = [];
  for await (const chunk of bytes.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A submission's size in bytes, whether held (`raw`) or spooled to Redis already. */
export function messageSize(submission: { raw: Buffer; spooled?: { length: number } | undefined }) {
  return submission.spooled?.length ?? submission.raw.length;
}
