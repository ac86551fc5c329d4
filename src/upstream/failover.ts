import { type Upstream, UpstreamUnreachableError } from './types.js';

/**
 * Several upstreams in order (CONTRACT: "to the first reachable upstream"). The next one
 * is tried only when one was unreachable — no recipient got an answer from it — never on
 * an SMTP reply, which would risk a duplicate or overrule a bounce.
 */
export function createFailoverUpstream(upstreams: Upstream[]): Upstream {
  if (upstreams.length === 0) throw new Error('a failover chain needs at least one upstream');
  return {
    label: upstreams.map((upstream) => upstream.label).join(', '),
    async send(message) {
      const failures: string[] = [];
      for (const upstream of upstreams) {
        try {
          return await upstream.send(message);
        } catch (error) {
          if (!(error instanceof UpstreamUnreachableError)) throw error;
          failures.push(error.message);
        }
      }
      throw new UpstreamUnreachableError(
        'every upstream',
        failures.join('; ') || 'no upstream reachable',
      );
    },
    async close() {
      await Promise.allSettled(upstreams.map((upstream) => upstream.close()));
    },
  };
}
