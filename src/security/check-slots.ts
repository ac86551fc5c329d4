import type { Redis } from 'ioredis';
import { RESERVE_CHECK, SETTLE_CHECK } from './abuse-scripts.js';

/** The keys of one guard address (AbuseGuard names them). */
export interface SlotKeys {
  ban: string;
  failures: string;
  inFlight: string;
}

export interface CheckSlotsOptions {
  maxFailures: number;
  maxInFlight: number;
  /** How long a check waits for a slot before it is answered "busy". */
  waitMs: number;
  windowSeconds: number;
}

/** An in-flight slot left by a crashed process frees itself after this. */
const IN_FLIGHT_TTL_SECONDS = 60;

/**
 * Slots for checking a secret, per guard address, in Redis (abuse-scripts.ts: each take
 * and give is one atomic step shared by every intake process). In this process the
 * takers of one address queue first come, first served, so a guess sent last cannot
 * overtake the ones before it by polling at a better moment.
 */
export class CheckSlots {
  /** Per address: the last take() in line. */
  readonly #lines = new Map<string, Promise<void>>();
  /** Per address: take() calls waiting for a slot to be freed. */
  readonly #wakers = new Map<string, Set<() => void>>();

  constructor(
    private readonly redis: Redis,
    private readonly options: CheckSlotsOptions,
  ) {}

  async take(keys: SlotKeys): Promise<'ok' | 'banned' | 'busy'> {
    const line = keys.inFlight;
    const deadline = Date.now() + this.options.waitMs;
    const turn = (this.#lines.get(line) ?? Promise.resolve()).then(() =>
      this.#take(keys, deadline),
    );
    const tail = turn.then(
      () => undefined,
      () => undefined,
    );
    this.#lines.set(line, tail);
    try {
      return await turn;
    } finally {
      if (this.#lines.get(line) === tail) this.#lines.delete(line);
    }
  }

  /** Give a slot back: -1 (right secret, banned meanwhile), 0 (right), else the failure count. */
  async give(keys: SlotKeys, ok: boolean): Promise<number> {
    try {
      return Number(
        await this.redis.eval(
          SETTLE_CHECK,
          3,
          keys.ban,
          keys.failures,
          keys.inFlight,
          ok ? '1' : '0',
          this.options.windowSeconds,
        ),
      );
    } finally {
      for (const wake of [...(this.#wakers.get(keys.inFlight) ?? [])]) wake();
    }
  }

  async #take(keys: SlotKeys, deadline: number): Promise<'ok' | 'banned' | 'busy'> {
    for (;;) {
      const answer = await this.redis.eval(
        RESERVE_CHECK,
        3,
        keys.ban,
        keys.failures,
        keys.inFlight,
        this.options.maxFailures,
        this.options.maxInFlight,
        IN_FLIGHT_TTL_SECONDS,
      );
      if (answer === 'ok' || answer === 'banned') return answer;
      const left = deadline - Date.now();
      if (left <= 0) return 'busy';
      // Woken by a give() here, or after a short while for slots freed by other processes.
      await this.#freed(keys.inFlight, Math.min(left, 50));
    }
  }

  #freed(line: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wakers = this.#wakers.get(line) ?? new Set<() => void>();
      this.#wakers.set(line, wakers);
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        if (wakers.size === 0) this.#wakers.delete(line);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  }
}
