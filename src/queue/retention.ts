import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LogEvent } from '../observability/events.js';
import type { Keys } from '../redis/keys.js';
import type { FormQuarantine } from './form-quarantine.js';
import { PENDING_STATUSES } from './index-scripts.js';
import { DELETE_EXPIRED } from './retention-scripts.js';
import { defineScripts, runScript } from './scripts.js';

/** Messages per script call: each call is short, so Redis never stalls on retention. */
export const RETENTION_BATCH = 100;
/** Final statuses known today; any other status with a count is swept too (generic). */
const KNOWN_FINAL = ['delivered', 'bounced', 'expired', 'partial', 'suppressed', 'purged'];

export interface RetentionOptions {
  retentionMs: number;
  batch?: number;
  /** Batches per status and pass at most, so one pass ends and the loop yields. */
  maxBatches?: number;
  /** After each batch: the ids deleted (the capture upstream's files go here). */
  onDeleted?: (ids: readonly string[]) => Promise<void>;
  formQuarantine?: FormQuarantine;
  logger?: Logger;
}

export interface RetentionPass {
  deleted: number;
  formPosts: number;
}

/**
 * Retention (CONTRACT §Retention and bounded resources): final messages whose last event
 * is older than POSTWARDEN_RETENTION are deleted in small batches (DELETE_EXPIRED, each
 * message atomic with its index and count updates); queued, deferred and held never.
 * Safe in several processes at once: each batch takes what is old when it runs.
 */
export class Retention {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #options: RetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #closed = false;

  constructor(redis: Redis, keys: Keys, options: RetentionOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#options = options;
    defineScripts(redis, DELETE_EXPIRED);
  }

  /** One pass over every final status (and the form quarantine). */
  async runOnce(): Promise<RetentionPass> {
    const { batch = RETENTION_BATCH, maxBatches = 50 } = this.#options;
    const counted = await this.#redis.hkeys(this.#keys.statusCounts());
    const statuses = new Set([...KNOWN_FINAL, ...counted]);
    for (const pending of PENDING_STATUSES) statuses.delete(pending);
    let deleted = 0;
    for (const status of statuses) {
      for (let round = 0; round < maxBatches && !this.#closed; round++) {
        const ids = await this.#deleteBatch(status, batch);
        deleted += ids.length;
        if (ids.length > 0) await this.#options.onDeleted?.(ids);
        if (ids.length < batch) break;
      }
    }
    let formPosts = 0;
    const quarantine = this.#options.formQuarantine;
    if (quarantine) {
      const cutoff = Date.now() - this.#options.retentionMs;
      for (let round = 0; round < maxBatches && !this.#closed; round++) {
        const n = await quarantine.deleteOlderThan(cutoff, batch);
        formPosts += n;
        if (n < batch) break;
      }
    }
    if (deleted + formPosts > 0) {
      this.#options.logger?.info(
        { event: LogEvent.retentionDeleted, messages: deleted, formPosts },
        'retention deleted old messages',
      );
    }
    return { deleted, formPosts };
  }

  /** Run a pass every `intervalMs` until close(); a failed pass is logged and retried. */
  start(intervalMs = 5000): void {
    const tick = () => {
      if (this.#closed) return;
      this.#running = this.runOnce()
        .catch((error: unknown) => {
          this.#options.logger?.warn(
            { event: LogEvent.retentionFailed, err: error },
            'retention pass failed; retrying later',
          );
        })
        .finally(() => {
          this.#running = undefined;
          if (!this.#closed) this.#timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.#timer = setTimeout(tick, Math.min(intervalMs, 1000)).unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  async #deleteBatch(status: string, batch: number): Promise<string[]> {
    const keys = this.#keys;
    const reply = await runScript(
      this.#redis,
      DELETE_EXPIRED,
      [keys.statusCounts(), keys.messageIndex(), keys.capturedIndex()],
      [
        status,
        String(this.#options.retentionMs),
        String(batch),
        keys.statusIndexPrefix(),
        keys.addressIndexPrefix(),
        keys.message('{id}'),
        keys.recipients('{id}'),
        keys.events('{id}'),
        keys.body('{id}'),
        keys.idempotency('{cred}', '{hash}'),
      ],
    );
    return Array.isArray(reply) ? reply.map(String) : [];
  }
}
