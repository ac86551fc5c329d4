import type { FastifyInstance } from 'fastify';

/** What /readyz reports: the durability monitor's verdict (redis/durability.ts). */
export interface Readiness {
  ok: boolean;
  reason: string;
  /** POSTWARDEN_DURABILITY=replicated: replicas connected and in sync now. */
  replicas?: number | undefined;
}

/** Durability reasons are written for operators; still, never echo URL credentials. */
function safeReason(reason: string): string {
  return reason.replace(/\/\/[^/@\s]*@/g, '//');
}

/**
 * `GET /healthz` answers while the process lives; `GET /readyz` only when Redis is
 * reachable and the durability setting is met (CONTRACT §HTTP API), else 503 with the
 * reason; with `replicated` durability it says how many replicas are connected. No auth:
 * load balancers and orchestrators call them. Every role serves them.
 */
export function healthRoutes(readiness: () => Readiness, paused?: () => Promise<boolean>) {
  return async function registerHealthRoutes(app: FastifyInstance): Promise<void> {
    app.get('/healthz', async (_request, reply) => reply.code(200).send({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      const state = readiness();
      const replicas = state.replicas === undefined ? {} : { replicas: state.replicas };
      if (!state.ok) {
        return reply
          .code(503)
          .send({ status: 'unavailable', reason: safeReason(state.reason), ...replicas });
      }
      // A paused relay is still ready (it accepts): the kill switch is reported, not failed
      // (CONTRACT §Containment). Unknown when Redis did not answer the one HEXISTS.
      const isPaused = paused ? await paused().catch(() => undefined) : undefined;
      return reply.code(200).send({ status: 'ok', paused: isPaused ?? null, ...replicas });
    });
  };
}
