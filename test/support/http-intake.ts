import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildHttpApp } from '../../src/intake/http/app.js';
import type { Services } from '../../src/runtime/services.js';

/** The HTTP API alone (no admin, no metrics) over `services`, listening on 127.0.0.1:0. */
export async function startHttpIntake(
  services: Services,
  options: { logger: Logger; maxMessageBytes: number },
): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildHttpApp({
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    accept: services.accept,
    store: services.store,
    durability: services.durability,
    ...options,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}
