import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { BodySource } from '../message/body-source.js';

/** One GETRANGE: small enough to stay out of the way, large enough to be few round trips. */
export const BODY_RANGE_BYTES = 1024 * 1024;

/**
 * The queued body under `key` (`size` bytes, from STRLEN) as a BodySource: read with
 * GETRANGE one range at a time as the consumer (the upstream's socket, the capture file)
 * takes it, so delivering a 25 MB message holds about one range, not the whole body plus
 * the reply parser's copies of it. A body that is shorter than announced while it is read
 * (deleted by a purge meanwhile) fails the stream; the send then fails and is retried.
 */
export function redisBody(redis: Redis, key: string, size: number): BodySource {
  return {
    size,
    open: () => rangeStream(redis, key, size),
  };
}

function rangeStream(redis: Redis, key: string, size: number): Readable {
  let offset = 0;
  return new Readable({
    // One range ahead is enough to keep a socket busy.
    highWaterMark: BODY_RANGE_BYTES,
    read() {
      if (offset >= size) {
        this.push(null);
        return;
      }
      const end = Math.min(size, offset + BODY_RANGE_BYTES) - 1;
      const start = offset;
      offset = end + 1;
      redis.getrangeBuffer(key, start, end).then(
        (piece) => {
          if (piece.length !== end - start + 1) {
            this.destroy(new Error('message body changed while it was being read'));
            return;
          }
          this.push(piece);
        },
        (error: Error) => this.destroy(error),
      );
    },
  });
}
