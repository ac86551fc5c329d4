import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** One operator action (CONTRACT §Containment: the audit log). Never a secret in it. */
export interface AuditEntry {
  at: string;
  /** `admin` or `cli:<OS user>`. */
  actor: string;
  action: string;
  target: string;
  /** Counts, reasons; never a secret. */
  detail: string;
}

/** Entries kept: the list is trimmed at every append, so it never grows past this. */
export const AUDIT_LOG_LIMIT = 10_000;

/**
 * The audit log of operator actions, shared by every process through Redis: a list,
 * newest first, capped at AUDIT_LOG_LIMIT in the same MULTI as each append. Written only
 * by the shared operations (queue/operator, security/operator-actions), so neither the CLI
 * nor the admin page can forget an entry.
 */
export class AuditLog {
  readonly #redis: Redis;
  readonly #key: string;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#key = keys.auditLog();
  }

  async append(entry: Omit<AuditEntry, 'at'>, at = new Date()): Promise<void> {
    const full: AuditEntry = { at: at.toISOString(), ...entry };
    await this.#redis
      .multi()
      .lpush(this.#key, JSON.stringify(full))
      .ltrim(this.#key, 0, AUDIT_LOG_LIMIT - 1)
      .exec();
  }

  /** The newest `limit` entries, newest first. */
  async list(limit = 50): Promise<AuditEntry[]> {
    const count = Math.max(1, Math.min(limit, AUDIT_LOG_LIMIT));
    const raw = await this.#redis.lrange(this.#key, 0, count - 1);
    return raw.map((line) => JSON.parse(line) as AuditEntry);
  }
}

/** The actor of a CLI command: the OS user running it. */
export function cliActor(username: string): string {
  return `cli:${username}`;
}

export const ADMIN_ACTOR = 'admin';
