import { startWatchdog } from '../delivery/watchdog.js';
import { startDeliveryWorker } from '../delivery/worker.js';
import { LogEvent } from '../observability/events.js';
import { indexesMissing } from '../queue/reindex.js';
import { Retention } from '../queue/retention.js';
import { captureDir, deleteCaptured, indexCapturedFolder } from '../upstream/capture.js';
import { createUpstreams } from '../upstream/from-url.js';
import { withStatusReports } from '../upstream/status-reports.js';
import { startWebhookWorker } from '../webhooks/worker.js';
import type { RoleContext, RolePart, ShutdownPlan } from './roles.js';

/** How long the delivery worker may take to finish deliveries in flight at shutdown. */
const DRAIN_DEADLINE_MS = 20_000;

/**
 * The worker role: the delivery worker and its upstreams. Loaded only by processes that
 * run it (compose.ts), so an intake-only process never loads delivery code. Its HTTP
 * listener serves only /healthz, /readyz and /metrics (CONTRACT §HTTP API).
 */
export async function buildWorkerRole(context: RoleContext): Promise<RolePart> {
  const { config, services, metrics, activity, logger, overrides } = context;
  const upstream = createUpstreams(config.upstreams, {
    dataDir: config.dataDir,
    logger,
    idleSessions: config.workerConcurrency,
    captureIndex: services.captureIndex,
    ...overrides.upstream,
    wrap: (one) => withStatusReports(one, activity.upstreams),
  });
  return {
    httpPlugins: [],
    adminRoutes: [],
    async start(_httpUrl, plan) {
      const worker = await startDeliveryWorker({
        redisUrl: services.redisUrl,
        keys: services.keys,
        upstream,
        retry: {
          baseMs: config.retryBaseMs,
          maxDelayMs: config.retryMaxDelayMs,
          lifetimeMs: config.retryLifetimeMs,
        },
        concurrency: config.workerConcurrency,
        logger,
        onOutcome: (outcome, seconds) => {
          metrics.deliveryFinished(outcome, seconds);
          if (outcome === 'delivered') activity.throughput.recordDelivered();
        },
      });
      plan.drain.push({ name: 'delivery worker', run: () => worker.close(DRAIN_DEADLINE_MS) });
      // Webhooks have their own queue and concurrency: they never slow mail delivery.
      const webhooks = await startWebhookWorker({
        redisUrl: services.redisUrl,
        keys: services.keys,
        logger,
        audit: services.audit,
        retryBaseMs: config.webhookRetryBaseMs,
        lifetimeMs: config.webhookLifetimeMs,
        allowPrivate: config.webhookAllowPrivate,
        ...overrides.webhooks,
        onOutcome: (outcome) => metrics.webhookDelivery(outcome),
        watchdog: startWatchdog,
      });
      plan.drain.push({ name: 'webhook worker', run: () => webhooks.close() });
      startRetention(context, plan);
      const destinations = config.upstreams
        .map((spec) =>
          spec.kind === 'capture' ? `capture (kept in ${captureDir(config.dataDir)})` : spec.label,
        )
        .join(', then ');
      return {
        banner: [`  Delivery:  ${config.workerConcurrency} at a time to ${destinations}`],
      };
    },
  };
}

/** Every few seconds between retention passes (each pass works in small batches). */
const RETENTION_INTERVAL_MS = 5000;

/**
 * Retention runs in every worker process: its batches are safe to run side by side, and a
 * worker is where captured mail is written, so it deletes that too.
 */
function startRetention(context: RoleContext, plan: ShutdownPlan): void {
  const { config, services, logger } = context;
  const captures = config.upstreams.some((spec) => spec.kind === 'capture');
  const retention = new Retention(services.redis, services.keys, {
    retentionMs: config.retentionMs,
    formQuarantine: services.formQuarantine,
    logger,
    onDeleted: captures ? (ids) => deleteCaptured(config.dataDir, ids) : undefined,
  });
  // A short window (tests, soak runs) is swept about as often as it is long.
  retention.start(Math.min(RETENTION_INTERVAL_MS, Math.max(250, config.retentionMs)));
  if (captures) {
    void indexCapturedFolder(config.dataDir, services.captureIndex).catch((error: unknown) =>
      logger.warn(
        { event: LogEvent.captureIndexFailed, err: error },
        'could not index mail captured before this version',
      ),
    );
  }
  void indexesMissing(services.redis, services.keys)
    .then((missing) => {
      if (!missing) return;
      logger.warn(
        { event: LogEvent.reindexNeeded },
        'messages from before the history indexes: run `postwarden queue reindex` once (counts and retention miss them until then)',
      );
    })
    .catch(() => {});
  plan.drain.push({ name: 'retention', run: () => retention.close() });
}
