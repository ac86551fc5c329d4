import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { Upstream } from '../upstream/types.js';
import { createAdminKeys } from './admin-keys.js';
import { ThroughputRecorder } from './throughput.js';
import { trackUpstreamStatus, UpstreamStatusStore } from './upstream-status.js';

/**
 * What the overview shows that only the intake and the workers know, recorded into Redis
 * so every process contributes: accepted/delivered per minute and each upstream's last
 * success/error. Wired by the composition root; every method is fire-and-forget and never
 * throws (a counter must not fail an accept or a delivery).
 */
export interface AdminSignals {
  /** One message durably queued (AcceptDeps.onAccepted). */
  recordAccepted(): void;
  /** One recipient delivered (the worker's onOutcome with outcome 'delivered'). */
  recordDelivered(): void;
  /** For the worker's onOutcome hook: counts 'delivered' outcomes. */
  recordOutcome(outcome: string): void;
  /** Wrap one configured upstream (before the failover chain) to keep its last success/error. */
  trackUpstream(upstream: Upstream): Upstream;
}

export function createAdminSignals(redis: Redis, keys: Keys): AdminSignals {
  const adminKeys = createAdminKeys(keys);
  const throughput = new ThroughputRecorder(redis, adminKeys);
  const upstreams = new UpstreamStatusStore(redis, adminKeys);
  return {
    recordAccepted: () => throughput.recordAccepted(),
    recordDelivered: () => throughput.recordDelivered(),
    recordOutcome(outcome) {
      if (outcome === 'delivered') throughput.recordDelivered();
    },
    trackUpstream: (upstream) => trackUpstreamStatus(upstream, upstreams),
  };
}
