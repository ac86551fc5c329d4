import { userInfo } from 'node:os';
import pino from 'pino';
import { type Config, loadConfig } from '../config/load.js';
import { cliActor } from '../observability/audit-log.js';
import { createLogger } from '../observability/logger.js';
import type { QueueOperator } from '../queue/operator.js';
import { resolveRedis } from '../runtime/redis-source.js';
import { createOperator, createServices, type Services } from '../runtime/services.js';

export interface ManagementContext {
  config: Readonly<Config>;
  services: Services;
  /** Queue and containment operations, audited as `cli:<OS user>`. */
  operator: QueueOperator;
  /** The audit actor of this command. */
  actor: string;
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
  const actor = cliActor(osUser());
  return {
    config,
    services,
    operator: createOperator(services, actor),
    actor,
    async close() {
      await services.close();
      if (source.embedded?.started) await source.embedded.stop();
    },
  };
}

/** The OS user running the command (the audit log's actor); `unknown` where none is known. */
function osUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Run `work` with a management context, closed afterwards whatever happens. */
export async function withManagement<T>(
  work: (context: ManagementContext) => Promise<T>,
): Promise<T> {
  const context = await openManagement();
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}
