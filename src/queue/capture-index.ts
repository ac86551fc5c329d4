import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/**
 * The capture upstream's mailbox index (issue 11: no page reads all messages): captured
 * message ids scored by capture time (ms). The capture upstream adds an id after writing
 * its files; the admin's captured page reads one page of it and only those files, never
 * the folder; retention removes an entry with its message (DELETE_EXPIRED, atomically)
 * and the files after. Shaped to upstream/capture.ts's CaptureIndexWriter and
 * CaptureIndexReader, which the runtime wires it to.
 */
export class CaptureIndex {
  readonly #redis: Redis;
  readonly #key: string;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#key = keys.capturedIndex();
  }

  async add(id: string, atMs: number): Promise<void> {
    await this.#redis.zadd(this.#key, atMs, id);
  }

  /** Ids newest first. */
  async newest(offset: number, count: number): Promise<string[]> {
    if (count <= 0) return [];
    return this.#redis.zrevrange(this.#key, offset, offset + count - 1);
  }

  async count(): Promise<number> {
    return this.#redis.zcard(this.#key);
  }
}
