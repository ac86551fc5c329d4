import pino from 'pino';
import { type Config, loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { resolveRedis } from '../runtime/redis-source.js';
import { createServices, type Services } from '../runtime/services.js';

export interface ManagementContext {
  config: Readonly<Config>;
  services: Services;
  close(): Promise<void>;
}

/**
 * Management commands talk to the same Redis as the server: REDIS_URL, or the embedded
 * one under the data dir (adopted when the server runs; started just for the command,
 * and stopped again, when it does not).
 */
export async function openManagement(): Promise<ManagementContext> {
  const config = loadConfig();
  // Logs go to stderr: stdout carries the command's result (one JSON document with --json).
  const logger = createLogger(
    config.logLevel === 'info' ? 'warn' : config.logLevel,
    pino.destination({ fd: 2, sync: true }),
  );
  const source = await resolveRedis(config);
  let services: Services;
  try {
    services = await createServices(config, source.url, logger, { connectTimeoutMs: 5000 });
  } catch (error) {
    if (source.embedded?.started) await source.embedded.stop();
    throw error;
  }
  return {
    config,
    services,
    async close() {
      await services.close();
      if (source.embedded?.started) await source.embedded.stop();
    },
  };
}
