import type { Redis } from 'ioredis';
import type { Upstream } from '../upstream/types.js';
import type { AdminKeys } from './admin-keys.js';

export interface UpstreamStatus {
  label: string;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
  lastError: string | null;
}

const MAX_DETAIL = 300;

/**
 * Each upstream's last success and last error, for the overview (an operator's first
 * question when mail stops). Kept in one Redis hash so every worker process contributes.
 * Labels are the printable UpstreamSpec labels (no passwords). Writes never throw.
 */
export class UpstreamStatusStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: AdminKeys,
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

/**
 * Wrap one upstream so each send records its last success or last error (the overview's
 * "each upstream's last success/last error"). Wrap each configured upstream before the
 * failover chain, so the label says which one answered. Results pass through unchanged.
 */
export function trackUpstreamStatus(upstream: Upstream, status: UpstreamStatusStore): Upstream {
  return {
    label: upstream.label,
    async send(message) {
      try {
        const results = await upstream.send(message);
        const failure = results.find((result) => result.outcome !== 'delivered');
        if (results.some((result) => result.outcome === 'delivered')) {
          status.recordSuccess(upstream.label);
        }
        if (failure) status.recordError(upstream.label, `${failure.outcome}: ${failure.detail}`);
        return results;
      } catch (error) {
        status.recordError(upstream.label, (error as Error).message);
        throw error;
      }
    },
    close: () => upstream.close(),
  };
}
