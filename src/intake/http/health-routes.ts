import type { FastifyInstance } from 'fastify';
import type { DurabilityMonitor } from '../../redis/durability.js';

/** Durability reasons are written for operators; still, never echo URL credentials. */
function safeReason(reason: string): string {
  return reason.replace(/\/\/[^/@\s]*@/g, '//');
}

/**
 * `GET /healthz` answers while the process lives; `GET /readyz` only when Redis is
 * reachable and the durability setting is met (CONTRACT §HTTP API), else 503 with the
 * reason. No auth: load balancers and orchestrators call them.
 */
export function healthRoutes(durability: DurabilityMonitor) {
  return async function registerHealthRoutes(app: FastifyInstance): Promise<void> {
    app.get('/healthz', async (_request, reply) => reply.code(200).send({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      const state = durability.state;
      if (state.ok) return reply.code(200).send({ status: 'ok' });
      return reply.code(503).send({ status: 'unavailable', reason: safeReason(state.reason) });
    });
  };
}
