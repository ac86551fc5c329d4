import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

/**
 * `GET /metrics` in the Prometheus text format (CONTRACT §HTTP API). Registered as one of
 * buildHttpApp's plugins. It carries counts only — no ids, addresses or IPs — and the HTTP
 * listener is loopback by default, like the rest of the operator surface.
 */
export function createMetricsPlugin(metrics: Metrics) {
  return async function metricsPlugin(app: FastifyInstance): Promise<void> {
    app.get('/metrics', async (_request, reply) => {
      const text = await metrics.render();
      return reply.header('Content-Type', metrics.contentType).send(text);
    });
  };
}
