import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

export interface UpstreamStatus {
  label: string;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
}

const MAX_DETAIL = 300;

/** The write side, for the upstream wrapper that reports each send (upstream/status-reports.ts). */
export interface UpstreamStatusRecorder {
  recordSuccess(label: string, at?: Date): void;
  recordError(label: string, detail: string, at?: Date): void;
}

/**
 * Each upstream's last success and last error, for the admin overview (an operator's first
 * question when mail stops). Kept in one Redis hash so every worker process contributes;
 * upstream/status-reports.ts writes it, the admin reads it.
 * Labels are the printable UpstreamSpec labels (no passwords). Writes never throw.
 */
export class UpstreamStatusStore implements UpstreamStatusRecorder {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Fields `<label>\t<name>`: independent HSETs, so concurrent workers never race. */
  #write(label: string, fields: Record<string, string>): void {
    const prefixed = Object.fromEntries(
      Object.entries(fields).map(([name, value]) => [`${label}\t${name}`, value]),
    );
    this.redis.hset(this.keys.upstreamStatus(), prefixed).catch(() => {});
  }

  recordSuccess(label: string, at = new Date()): void {
    this.#write(label, { lastSuccessAt: at.toISOString() });
  }

  recordError(label: string, detail: string, at = new Date()): void {
    this.#write(label, { lastErrorAt: at.toISOString(), lastError: detail.slice(0, MAX_DETAIL) });
  }

  /** One row per configured label (in order), plus any other label seen before. */
  async list(labels: readonly string[]): Promise<UpstreamStatus[]> {
    const hash = await this.redis.hgetall(this.keys.upstreamStatus());
    const seen = Object.keys(hash).map((field) => field.split('\t')[0] ?? '');
    const all = [...new Set([...labels, ...seen])];
    const field = (label: string, name: string) => hash[`${label}\t${name}`] ?? null;
    return all.map((label) => ({
      label,
      lastSuccessAt: field(label, 'lastSuccessAt'),
      lastErrorAt: field(label, 'lastErrorAt'),
      lastError: field(label, 'lastError'),
    }));
  }
}
