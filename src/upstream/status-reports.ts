import type { UpstreamStatusRecorder } from '../observability/upstream-status.js';
import type { Upstream } from './types.js';

/**
 * Wrap one upstream so each send reports its last success or last error (the admin
 * overview's "each upstream's last success/last error"). The composition root wraps each
 * configured upstream before the failover chain, so the label says which one answered.
 * Results and errors pass through unchanged.
 */
export function withStatusReports(upstream: Upstream, status: UpstreamStatusRecorder): Upstream {
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
