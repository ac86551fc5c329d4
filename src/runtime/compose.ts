import type { FastifyInstance } from 'fastify';
import type { AdminRoute } from '../admin/plugin.js';
import type { Config } from '../config/load.js';
import { ADMIN_ACTOR } from '../observability/audit-log.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { ThroughputRecorder } from '../observability/throughput.js';
import { UpstreamStatusStore } from '../observability/upstream-status.js';
import type { QueueOperator } from '../queue/operator.js';
import { checkStartupDurability } from './durability-check.js';
import { createHttpServer } from './http-server.js';
import { type RedisSource, resolveRedis } from './redis-source.js';
import {
  type Activity,
  hostForUrl,
  listenError,
  type RelayOverrides,
  type Role,
  type RoleContext,
  type RolePart,
  type ShutdownPlan,
  type StartedRole,
} from './roles.js';
import { createOperator, createServices, type Services } from './services.js';
import { createShutdown, type ShutdownStep } from './shutdown.js';
import { loadOrCreateTls } from './tls.js';

/** The whole orderly shutdown; systemd's TimeoutStopSec and compose's grace period are 30 s. */
const SHUTDOWN_DEADLINE_MS = 25_000;

/** A relay wired but not yet listening: what boot starts and what in-process tests drive. */
export interface Relay {
  readonly role: Role;
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly redis: RedisSource;
  readonly services: Services;
  readonly operator: QueueOperator;
  readonly metrics: Metrics;
  readonly activity: Activity;
  /** The HTTP listener's app (every role has one). */
  readonly http: FastifyInstance;
  /** Every admin route registered (intake roles; empty on a worker). */
  readonly adminRoutes: readonly AdminRoute[];
  /** Listen (HTTP on every role, SMTP on the intake) and start delivering (the worker). */
  start(): Promise<RelayStarted>;
  /** Ordered shutdown within the deadline; true when every step finished cleanly. Idempotent. */
  close(reason?: string): Promise<boolean>;
}

export interface RelayStarted {
  httpUrl: string;
  httpPort: number;
  smtp: StartedRole['smtp'];
  /** What the process prints: where it listens, and the first-run admin password. */
  banner: string[];
}

/**
 * The one composition root (ARCHITECTURE §8; fastify/demo's `build()` is the model):
 * configuration → logger → Redis → shared services → start-up checks → metrics and
 * activity → the role's parts (loaded on demand) → one HTTP listener. Production
 * (runtime/boot.ts) and every in-process test call this; only `overrides` differ.
 * Everything built is registered for an ordered shutdown, and a failure part-way stops
 * what already runs (the embedded Redis included) and rethrows.
 */
export async function composeRelay(
  config: Readonly<Config>,
  overrides: RelayOverrides = {},
): Promise<Relay> {
  const role = overrides.role ?? 'all';
  const logger = overrides.logger ?? createLogger(config.logLevel);
  // Listeners stop first, then deliveries drain; Redis connections and the embedded Redis
  // last — also when start-up fails part-way, so no redis-server child is left behind.
  const plan: ShutdownPlan = { stopAccepting: [], drain: [] };
  const teardown: ShutdownStep[] = [];
  const close = createShutdown(
    () => [...plan.stopAccepting, ...plan.drain, ...teardown],
    logger,
    SHUTDOWN_DEADLINE_MS,
  );
  try {
    const redis = await resolveRedis(config);
    const embedded = redis.embedded;
    if (embedded?.started) teardown.push({ name: 'embedded redis', run: () => embedded.stop() });
    const metrics = createMetrics();
    const services = await createServices(config, redis.url, logger, {
      keyPrefix: overrides.keyPrefix,
      credentialCacheTtlMs: overrides.credentialCacheTtlMs,
      onAuthFailure: (failure) => metrics.authFailed(failure.protocol),
    });
    teardown.unshift({ name: 'redis connections', run: () => services.close() });
    await checkStartupDurability(services.durability, config, logger);
    services.durability.start();
    // The operator of this process is the admin page's (the CLI builds its own, cli:USER).
    const operator = createOperator(services, ADMIN_ACTOR);
    const activity: Activity = {
      throughput: new ThroughputRecorder(services.redis, services.keys),
      upstreams: new UpstreamStatusStore(services.redis, services.keys),
    };
    connectGauges(metrics, services, operator);
    const context: RoleContext = {
      config,
      logger,
      services,
      operator,
      metrics,
      activity,
      overrides,
    };
    const parts = await buildParts(role, context);
    const http = await createHttpServer({
      logger,
      bodyLimit: config.maxMessageBytes,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      trustedProxies: config.trustedProxies,
      tls: config.httpTls === 'on' ? await loadOrCreateTls(config) : undefined,
      readiness: () => services.durability.state,
      paused: () => services.queue.isPaused(),
      metrics,
      plugins: parts.flatMap((part) => part.httpPlugins),
    });
    plan.stopAccepting.push({ name: 'http listener', run: () => http.close() });
    return {
      role,
      config,
      logger,
      redis,
      services,
      operator,
      metrics,
      activity,
      http,
      adminRoutes: parts.flatMap((part) => part.adminRoutes),
      start: () => startRelay(role, config, http, parts, plan, redis),
      close: (reason = 'closed') => close(reason),
    };
  } catch (error) {
    await close('start-up failed');
    throw error;
  }
}

/** Intake and worker parts are imported only by the processes that run them. */
async function buildParts(role: Role, context: RoleContext): Promise<RolePart[]> {
  const parts: RolePart[] = [];
  if (role !== 'worker') {
    parts.push(await (await import('./intake-role.js')).buildIntakeRole(context));
  }
  if (role !== 'intake') {
    parts.push(await (await import('./worker-role.js')).buildWorkerRole(context));
  }
  return parts;
}

function connectGauges(metrics: Metrics, services: Services, operator: QueueOperator): void {
  metrics.setSources({
    // Two gauges read the queue on every scrape: one index walk serves both.
    queue: reuseFor(1000, () => operator.stats()),
    bansActive: async () => (await services.abuseGuard.listBans()).length,
    ready: () => services.durability.state.ok,
    selftestLastSuccess: () => services.settings.lastSelftestSuccess(),
    // Three SCARDs/HEXISTS and one small hash: the same cost whatever the history.
    containment: reuseFor(1000, () => operator.containmentCounts()),
    suppressions: () => services.suppressions.count(),
  });
}

async function startRelay(
  role: Role,
  config: Readonly<Config>,
  http: FastifyInstance,
  parts: RolePart[],
  plan: ShutdownPlan,
  redis: RedisSource,
): Promise<RelayStarted> {
  try {
    await http.listen({ host: config.httpHost, port: config.httpPort });
  } catch (error) {
    throw listenError('POSTWARDEN_HTTP_PORT', config.httpHost, config.httpPort, error);
  }
  const address = http.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  const scheme = config.httpTls === 'on' ? 'https' : 'http';
  const httpUrl = `${scheme}://${hostForUrl(config.httpHost)}:${httpPort}`;
  const banner = [`Postwarden is running (role ${role}).`];
  let smtp: StartedRole['smtp'];
  let generatedAdminPassword: string | undefined;
  for (const part of parts) {
    const started = await part.start(httpUrl, plan);
    banner.push(...started.banner);
    smtp ??= started.smtp;
    generatedAdminPassword ??= started.generatedAdminPassword;
  }
  if (role === 'worker') {
    banner.push(`  Metrics:   ${httpUrl}/metrics   (health ${httpUrl}/readyz)`);
  }
  banner.push(`  Redis:     ${describeRedis(redis)}; durability ${config.durability}`);
  if (generatedAdminPassword) {
    banner.push(
      '',
      `Admin password (shown only this once; change it with \`postwarden admin set-password\`): ${generatedAdminPassword}`,
    );
  }
  return { httpUrl, httpPort, smtp, banner };
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
