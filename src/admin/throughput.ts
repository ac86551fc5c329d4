import type { Redis } from 'ioredis';
import type { AdminKeys } from './admin-keys.js';

const MINUTE_MS = 60_000;
const KEEP_SECONDS = 2 * 60 * 60;

export interface ThroughputPoint {
  /** Start of the minute, ISO-8601. */
  minute: string;
  accepted: number;
  delivered: number;
}

/**
 * Accepted and delivered messages per minute for the overview chart: one small Redis hash
 * per minute with a 2 h TTL, shared by every process (intake counts accepts, workers count
 * deliveries). Recording is fire-and-forget: a counter must never fail an accept.
 */
export class ThroughputRecorder {
  constructor(
    private readonly redis: Redis,
    private readonly keys: AdminKeys,
  ) {}

  #bump(field: 'accepted' | 'delivered', now: number): void {
    const key = this.keys.throughputMinute(Math.floor(now / MINUTE_MS));
    this.redis
      .multi()
      .hincrby(key, field, 1)
      .expire(key, KEEP_SECONDS)
      .exec()
      .catch(() => {});
  }

  recordAccepted(now = Date.now()): void {
    this.#bump('accepted', now);
  }

  recordDelivered(now = Date.now()): void {
    this.#bump('delivered', now);
  }

  /** The last `minutes` minutes, oldest first, the current minute included. */
  async read(minutes = 60, now = Date.now()): Promise<ThroughputPoint[]> {
    const current = Math.floor(now / MINUTE_MS);
    const pipeline = this.redis.pipeline();
    const range: number[] = [];
    for (let minute = current - minutes + 1; minute <= current; minute++) {
      range.push(minute);
      pipeline.hmget(this.keys.throughputMinute(minute), 'accepted', 'delivered');
    }
    const replies = (await pipeline.exec()) ?? [];
    return range.map((minute, index) => {
      const [, values] = replies[index] ?? [];
      const [accepted, delivered] = (values as (string | null)[] | undefined) ?? [];
      return {
        minute: new Date(minute * MINUTE_MS).toISOString(),
        accepted: Number(accepted ?? 0),
        delivered: Number(delivered ?? 0),
      };
    });
  }
}
