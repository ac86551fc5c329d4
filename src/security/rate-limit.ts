import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { QueueUnavailableError } from '../errors.js';
import type { Keys } from '../redis/keys.js';
import { type Denial, deny } from './verdict.js';

/**
 * Per-credential `--rate N/min` (CONTRACT §CLI), counted in Redis so every intake process
 * shares the budget. One limiter per distinct rate, created on first use.
 */
export class CredentialRateLimiter {
  readonly #limiters = new Map<number, RateLimiterRedis>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  #limiterFor(perMinute: number): RateLimiterRedis {
    let limiter = this.#limiters.get(perMinute);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${this.keys.ratePrefix()}:${perMinute}`,
        points: perMinute,
        duration: 60,
        rejectIfRedisNotReady: true,
      });
      this.#limiters.set(perMinute, limiter);
    }
    return limiter;
  }

  /** Take one message from the credential's budget; a Denial when it is spent. */
  async consume(credential: string, perMinute: number | undefined): Promise<Denial | undefined> {
    if (perMinute === undefined) return undefined;
    try {
      await this.#limiterFor(perMinute).consume(credential, 1);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        return deny(
          'rate_limited',
          `rate limit of ${perMinute} messages per minute reached`,
          seconds,
        );
      }
      throw new QueueUnavailableError('rate limiter store unavailable', { cause: error });
    }
  }
}
