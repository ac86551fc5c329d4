import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../errors.js';
import type { BodyUpload } from './staging.js';

/** Bytes sent to Redis per APPEND: the stream's small chunks are gathered to this. */
export const SPOOL_PIECE_BYTES = 1024 * 1024;
/** One spool's bytes not yet acknowledged before its writer is asked to wait. */
const SPOOL_ROOM_BYTES = 2 * SPOOL_PIECE_BYTES;
/** Bulk bytes in flight on the connection, all spools of the process together. */
export const SPOOL_WINDOW_BYTES = 8 * SPOOL_PIECE_BYTES;

/**
 * The bulk bytes every spool of a process may have in flight on the shared producer
 * connection together. Without it 60 clients streaming 24 MB each queued hundreds of MB
 * of APPENDs on that connection, and every other command behind them (AUTH lookups, the
 * stage step itself) passed its 4 s timeout: 454 and 451 for everyone. With it a small
 * command waits behind at most this many bytes, and the clients are paused instead.
 */
export class SpoolWindow {
  readonly #limit: number;
  #inUse = 0;
  #waiting: (() => void)[] = [];

  constructor(limit = SPOOL_WINDOW_BYTES) {
    this.#limit = limit;
  }

  /** Take `bytes` if they fit (or nothing is in flight at all); else false. */
  tryTake(bytes: number): boolean {
    if (this.#inUse > 0 && this.#inUse + bytes > this.#limit) return false;
    this.#inUse += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#inUse -= bytes;
    // First come, first served: each waiter tries again (and queues itself again if needed).
    for (const wake of this.#waiting.splice(0)) wake();
  }

  whenRoom(wake: () => void): void {
    this.#waiting.push(wake);
  }
}

/**
 * One large message body written to Redis while it arrives, so the intake holds a few
 * pieces of it instead of all of it. Written to its own key with a TTL (SET EX first,
 * then APPENDs, each sent only once the SET succeeded, so no piece can create the key
 * without its TTL); nobody reads it, and the stage script renames it into the message's
 * body in the same atomic step as the record and the job (Staging.stage with
 * `submission.spooled`, or an upload), so a message is still visible whole or not at all.
 * A message that is refused or abandoned is deleted here (discard), and the TTL removes
 * what a crash leaves behind. "Accepted" still waits for the stage step: with
 * `appendfsync always` (or WAIT/WAITAOF) that confirms every earlier write too.
 */
export class BodySpool {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #ttlSeconds: number;
  readonly #window: SpoolWindow;
  #gathered: Buffer[] = [];
  #gatheredBytes = 0;
  /** Pieces waiting for room in the window, in order. */
  #ready: Buffer[] = [];
  #waitingForWindow = false;
  #length = 0;
  #unacknowledged = 0;
  #created: Promise<number> | undefined;
  #last: Promise<number> = Promise.resolve(0);
  #failure: Error | undefined;
  #waiters: (() => void)[] = [];
  #discarded = false;

  constructor(redis: Redis, key: string, ttlSeconds: number, window: SpoolWindow) {
    this.#redis = redis;
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
    this.#window = window;
  }

  get key(): string {
    return this.#key;
  }

  write(chunk: Buffer): void {
    if (this.#discarded || chunk.length === 0) return;
    this.#gathered.push(chunk);
    this.#gatheredBytes += chunk.length;
    this.#length += chunk.length;
    this.#unacknowledged += chunk.length;
    if (this.#gatheredBytes >= SPOOL_PIECE_BYTES) this.#cut();
  }

  /** A promise to wait on before writing more, or undefined when there is room. */
  room(): Promise<void> | undefined {
    if (this.#unacknowledged <= SPOOL_ROOM_BYTES || this.#failure || this.#discarded) {
      return undefined;
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Every byte is in Redis: the upload for the stage step. Rejects if any write failed. */
  async finish(): Promise<BodyUpload> {
    this.#cut();
    while (this.#ready.length > 0 && !this.#failure) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
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
    this.#ready = [];
    this.#wake();
    if (!this.#created) return;
    // After the writes already sent, on the same connection: nothing is re-created after it.
    this.#last
      .catch(() => 0)
      .then(() => this.#redis.del(this.#key))
      .catch(() => {});
  }

  /** The gathered chunks become one piece, sent when the window has room. */
  #cut(): void {
    if (this.#gatheredBytes === 0 || this.#discarded) return;
    const piece =
      this.#gathered.length === 1
        ? (this.#gathered[0] as Buffer)
        : Buffer.concat(this.#gathered, this.#gatheredBytes);
    this.#gathered = [];
    this.#gatheredBytes = 0;
    this.#ready.push(piece);
    this.#pump();
  }

  #pump(): void {
    while (!this.#discarded && !this.#failure) {
      const piece = this.#ready[0];
      if (!piece) break;
      if (!this.#window.tryTake(piece.length)) {
        if (!this.#waitingForWindow) {
          this.#waitingForWindow = true;
          this.#window.whenRoom(() => {
            this.#waitingForWindow = false;
            this.#pump();
          });
        }
        return;
      }
      this.#ready.shift();
      this.#sendPiece(piece);
    }
    if (this.#discarded || this.#failure) this.#ready = [];
    this.#wake();
  }

  #sendPiece(piece: Buffer): void {
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
    this.#window.give(bytes);
    this.#unacknowledged -= bytes;
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
