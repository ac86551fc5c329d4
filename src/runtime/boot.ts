import { createAdminSignals } from '../admin/signals.js';
import { type Config, loadConfig } from '../config/load.js';
import { PostwardenError } from '../errors.js';
import { LogEvent } from '../observability/events.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { QueueOperator } from '../queue/operator.js';
import { ensureAdminPassword } from './first-run.js';
import { type RedisSource, resolveRedis } from './redis-source.js';
import { type Role, startIntakeRole, startWorkerRole } from './roles.js';
import { createServices, type Services } from './services.js';
import { createShutdown, type ShutdownStep } from './shutdown.js';

/** The whole orderly shutdown; systemd's TimeoutStopSec and compose's grace period are 30 s. */
const SHUTDOWN_DEADLINE_MS = 25_000;
/** Of which deliveries in flight may take this long to finish. */
const DRAIN_DEADLINE_MS = 20_000;

export interface RunningRelay {
  /** Resolves true when every step finished cleanly within the deadline. Idempotent. */
  shutdown(reason: string): Promise<boolean>;
}

/** Where the banner goes (stdout); logs are pino JSON lines beside it. */
export type Print = (line: string) => void;

/**
 * The one composition root (ARCHITECTURE §8): configuration → logger → Redis → services
 * → start-up checks → admin password → roles → banner. Everything started is registered
 * for an ordered shutdown; a failure part-way stops what already runs and rethrows.
 */
export async function bootRelay(role: Role, print: Print): Promise<RunningRelay> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // Listeners and workers stop first; Redis connections and the embedded Redis last —
  // also when start-up fails part-way, so no redis-server child is left behind.
  const steps: ShutdownStep[] = [];
  const redisSteps: ShutdownStep[] = [];
  const stopAll = createShutdown(() => [...steps, ...redisSteps], logger, SHUTDOWN_DEADLINE_MS);
  try {
    const redisSource = await resolveRedis(config);
    if (redisSource.embedded?.started) {
      const embedded = redisSource.embedded;
      redisSteps.push({ name: 'embedded redis', run: () => embedded.stop() });
    }
    const metrics = createMetrics();
    const services = await createServices(config, redisSource.url, logger, {
      onAuthFailure: (protocol) => metrics.authFailed(protocol),
    });
    redisSteps.unshift({ name: 'redis connections', run: () => services.close() });
    await checkStartupDurability(services, config, logger);
    services.durability.start();
    const admin = await ensureAdminPassword(services.redis, services.keys, config.adminPassword);
    const signals = createAdminSignals(services.redis, services.keys);
    services.accept.onAccepted = (protocol) => {
      metrics.messageAccepted(protocol);
      signals.recordAccepted();
    };
    const operator = new QueueOperator(services.store, services.queue);
    metrics.setSources({
      // Two gauges read the queue on every scrape: one index walk serves both.
      queue: reuseFor(1000, () => operator.stats()),
      bansActive: async () => (await services.abuseGuard.listBans()).length,
      ready: () => services.durability.state.ok,
      selftestLastSuccess: async () => {
        const at = await services.redis.hget(services.keys.selftestResult(), 'lastSuccessAt');
        return at ? Number(at) : undefined;
      },
    });

    const context = {
      config,
      services,
      operator,
      metrics,
      signals,
      logger,
      steps,
      drainDeadlineMs: DRAIN_DEADLINE_MS,
    };
    const banner: string[] = [`Postwarden is running (role ${role}).`];
    if (role !== 'worker') banner.push(...(await startIntakeRole(context)));
    if (role !== 'intake') banner.push(...(await startWorkerRole(context)));
    banner.push(`  Redis:     ${describeRedis(redisSource)}; durability ${config.durability}`);
    if (admin.generated) {
      banner.push(
        '',
        `Admin password (shown only this once; change it with \`postwarden admin set-password\`): ${admin.generated}`,
      );
    }
    banner.push(
      '',
      "Create a credential:  npx postwarden credentials create shop --allow-from '*@example.com'",
    );
    for (const line of banner) print(line);
    logger.info({ event: LogEvent.listening, role }, 'postwarden started');
    return { shutdown: stopAll };
  } catch (error) {
    await stopAll('start-up failed');
    throw error;
  }
}

/**
 * CONTRACT §Configuration: a Redis that may evict (maxmemory-policy other than
 * noeviction) or, under `fsync`, lose an acknowledged write stops start-up; `memory`
 * mode only warns.
 */
async function checkStartupDurability(
  services: Services,
  config: Readonly<Config>,
  logger: Logger,
): Promise<void> {
  const state = await services.durability.refresh();
  if (!state.noeviction) throw new PostwardenError('bad_redis', state.reason);
  if (!state.ok) {
    throw new PostwardenError(
      'durability_not_met',
      `${state.reason}. Postwarden will not say "accepted" for mail Redis could lose.`,
    );
  }
  if (config.durability === 'memory') {
    logger.warn(
      { event: LogEvent.durabilityChanged, durability: 'memory' },
      'POSTWARDEN_DURABILITY=memory: accepted messages can be lost if Redis crashes',
    );
  }
}

function describeRedis(source: RedisSource): string {
  if (!source.embedded) return `external (${source.url.replace(/\/\/[^@/]*@/, '//***@')})`;
  return `embedded, unix socket ${source.embedded.socket} (AOF, appendfsync always)`;
}

/** `read`, but one call's promise is reused for `ms` (gauges that share a costly source). */
function reuseFor<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ms) last = { at: now, value: read() };
    return last.value;
  };
}
