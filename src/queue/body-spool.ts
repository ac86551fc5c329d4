import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../errors.js';
import type { BodyUpload } from './staging.js';

/** Bytes sent to Redis per APPEND: the stream's small chunks are gathered to this. */
export const SPOOL_PIECE_BYTES = 1024 * 1024;
/** Unacknowledged bytes before the writer is asked to wait (backpressure on the client). */
const SPOOL_WINDOW_BYTES = 4 * SPOOL_PIECE_BYTES;

/**
 * One large message body written to Redis while it arrives, so the intake holds about a
 * few pieces of it instead of all of it. Written to its own key with a TTL (SET EX first,
 * then APPENDs, each sent only once the SET succeeded, so no piece can create the key
 * without its TTL); nobody reads it, and the stage script renames it into the message's
 * body in the same atomic step as the record and the job (Staging.stage with
 * `submission.spooled`), so a message is still visible whole or not at all. A message
 * that is refused or abandoned is deleted here (discard), and the TTL removes what a
 * crash leaves behind. "Accepted" still waits for the stage step: with
 * `appendfsync always` (or WAIT/WAITAOF) that confirms every earlier write too.
 */
export class BodySpool {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #ttlSeconds: number;
  #gathered: Buffer[] = [];
  #gatheredBytes = 0;
  #length = 0;
  #unacknowledged = 0;
  #created: Promise<number> | undefined;
  #last: Promise<number> = Promise.resolve(0);
  #failure: Error | undefined;
  #waiters: (() => void)[] = [];
  #discarded = false;

  constructor(redis: Redis, key: string, ttlSeconds: number) {
    this.#redis = redis;
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
  }

  get length(): number {
    return this.#length;
  }

  write(chunk: Buffer): void {
    if (this.#discarded || chunk.length === 0) return;
    this.#gathered.push(chunk);
    this.#gatheredBytes += chunk.length;
    this.#length += chunk.length;
    if (this.#gatheredBytes >= SPOOL_PIECE_BYTES) this.#flush();
  }

  /** A promise to wait on before writing more, or undefined when there is room. */
  room(): Promise<void> | undefined {
    if (this.#unacknowledged <= SPOOL_WINDOW_BYTES || this.#failure) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Every byte is in Redis: the upload for the stage step. Rejects if any write failed. */
  async finish(): Promise<BodyUpload> {
    this.#flush();
    const total = await this.#last.catch((error: Error) => {
      throw this.#failure ?? error;
    });
    if (this.#failure) throw this.#failure;
    if (total !== this.#length) throw new QueueUnavailableError('body spool did not arrive whole');
    return { key: this.#key, length: this.#length };
  }

  /** Not to be staged (refused, abandoned, failed): delete it, best effort (TTL backstop). */
  discard(): void {
    if (this.#discarded) return;
    this.#discarded = true;
    this.#gathered = [];
    const created = this.#created;
    if (!created) return;
    // After the writes already sent, on the same connection: nothing is re-created after it.
    this.#last
      .catch(() => 0)
      .then(() => this.#redis.del(this.#key))
      .catch(() => {});
    this.#wake();
  }

  #flush(): void {
    if (this.#gatheredBytes === 0 || this.#discarded) return;
    const piece =
      this.#gathered.length === 1
        ? (this.#gathered[0] as Buffer)
        : Buffer.concat(this.#gathered, this.#gatheredBytes);
    this.#gathered = [];
    this.#gatheredBytes = 0;
    this.#unacknowledged += piece.length;
    const written = this.#send(piece);
    written.then(
      () => this.#acknowledged(piece.length),
      (error: Error) => {
        this.#failure ??= error;
        this.#acknowledged(piece.length);
      },
    );
    this.#last = written;
  }

  #send(piece: Buffer): Promise<number> {
    const redis = this.#redis;
    if (!this.#created) {
      const created =
        redis.status === 'ready'
          ? redis.set(this.#key, piece, 'EX', this.#ttlSeconds).then(() => piece.length)
          : Promise.reject(new QueueUnavailableError(`Redis connection is ${redis.status}`));
      this.#created = created;
      return created;
    }
    // Sent only once the SET succeeded (then-callbacks run in order, so the APPENDs keep
    // theirs); after a failed SET nothing more is sent.
    return this.#created.then(() => redis.append(this.#key, piece));
  }

  #acknowledged(bytes: number): void {
    this.#unacknowledged -= bytes;
    if (this.#unacknowledged <= SPOOL_WINDOW_BYTES || this.#failure) this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
