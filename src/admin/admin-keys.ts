import type { Keys } from '../redis/keys.js';

/**
 * The admin room's own Redis keys, all under `keys.admin()` so one prefix still separates
 * installations and tests. Listed here once, each with what it holds.
 */
export interface AdminKeys {
  /** hash {csrf, createdAt}: one admin session, by the SHA-256 of its cookie value; TTL = idle expiry. */
  session(idHash: string): string;
  /** hash {accepted, delivered}: counts for one minute (epoch minute), TTL 2 h. */
  throughputMinute(minute: number): string;
  /** hash: upstream label → JSON {lastSuccessAt, lastErrorAt, lastError}. */
  upstreamStatus(): string;
}

export function createAdminKeys(keys: Keys): AdminKeys {
  const base = keys.admin();
  return {
    session: (idHash) => `${base}:session:${idHash}`,
    throughputMinute: (minute) => `${base}:tp:${minute}`,
    upstreamStatus: () => `${base}:upstreams`,
  };
}
