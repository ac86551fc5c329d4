import type { AdminSignals } from '../admin/signals.js';
import type { Config } from '../config/load.js';
import { PostwardenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { QueueOperator } from '../queue/operator.js';
import type { Services } from './services.js';
import type { ShutdownStep } from './shutdown.js';

/** `postwarden start --role`: every role in one process, or intake and workers apart. */
export const ROLES = ['all', 'intake', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export function parseRole(text: string | undefined): Role | undefined {
  const value = text ?? 'all';
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : undefined;
}

/** What boot hands each role; a role registers its own shutdown steps in `steps`. */
export interface RoleContext {
  config: Readonly<Config>;
  services: Services;
  operator: QueueOperator;
  metrics: Metrics;
  signals: AdminSignals;
  logger: Logger;
  steps: ShutdownStep[];
  /** How long the delivery worker may take to finish deliveries in flight. */
  drainDeadlineMs: number;
}

/**
 * The intake role: HTTP (API, admin, metrics) and SMTP (submission + SMTPS). Its modules
 * are loaded here, on demand, so a worker-only process never loads them. Returns the
 * banner lines saying where it listens.
 */
export async function startIntakeRole(context: RoleContext): Promise<string[]> {
  const { config, services, operator, metrics, logger, steps } = context;
  const [{ loadOrCreateTls }, { buildHttpApp }, { createSmtpIntake }, admin, metricsPlugin, cap] =
    await Promise.all([
      import('./tls.js'),
      import('../intake/http/app.js'),
      import('../intake/smtp/server.js'),
      import('../admin/plugin.js'),
      import('../observability/metrics-plugin.js'),
      import('../upstream/capture.js'),
    ]);
  const tls = await loadOrCreateTls(config);
  const capture = config.upstreams.some((spec) => spec.kind === 'capture');
  const app = await buildHttpApp({
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    accept: services.accept,
    store: services.store,
    durability: services.durability,
    maxMessageBytes: config.maxMessageBytes,
    logger,
    plugins: [
      metricsPlugin.createMetricsPlugin(metrics),
      admin.createAdminPlugin({
        redis: services.redis,
        keys: services.keys,
        store: services.store,
        queue: services.queue,
        operator,
        credentials: services.credentials,
        abuseGuard: services.abuseGuard,
        captureStore: capture ? new cap.CaptureStore(config.dataDir) : undefined,
        upstreamLabels: config.upstreams.map((spec) => spec.label),
        logger,
        secureCookies: false,
      }),
    ],
  });
  const smtp = createSmtpIntake({
    host: config.smtpHost,
    submissionPort: config.smtpPort,
    smtpsPort: config.smtpsPort,
    tls: { key: tls.key, cert: tls.cert },
    maxMessageBytes: config.maxMessageBytes,
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    accept: services.accept,
    logger,
    greetingDelayMs: config.smtpGreetingDelayMs,
  });
  // Stop accepting first: both listeners close before the workers drain.
  steps.push({ name: 'smtp listeners', run: () => smtp.close(10_000) });
  steps.push({ name: 'http listener', run: () => app.close() });
  try {
    await app.listen({ host: config.httpHost, port: config.httpPort });
  } catch (error) {
    throw listenError('POSTWARDEN_HTTP_PORT', config.httpHost, config.httpPort, error);
  }
  let smtpPorts: { submissionPort: number; smtpsPort: number | undefined };
  try {
    smtpPorts = await smtp.listen();
  } catch (error) {
    const port = (error as { port?: number }).port;
    const smtps = port !== undefined && port === config.smtpsPort && port !== config.smtpPort;
    throw listenError(
      smtps ? 'POSTWARDEN_SMTPS_PORT' : 'POSTWARDEN_SMTP_PORT',
      config.smtpHost,
      port ?? config.smtpPort,
      error,
    );
  }
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  const httpUrl = `http://${hostForUrl(config.httpHost)}:${httpPort}`;
  const smtpHost = hostForUrl(config.smtpHost);
  return [
    `  HTTP API:  ${httpUrl}/v1/messages   (health ${httpUrl}/readyz, metrics ${httpUrl}/metrics)`,
    `  Admin:     ${httpUrl}/admin`,
    `  SMTP submission (STARTTLS): ${smtpHost}:${smtpPorts.submissionPort}`,
    smtpPorts.smtpsPort
      ? `  SMTPS (implicit TLS):        ${smtpHost}:${smtpPorts.smtpsPort}`
      : '  SMTPS: off (POSTWARDEN_SMTPS_PORT=0)',
    tls.generated || !config.tlsCert
      ? `  TLS: self-signed certificate in ${config.dataDir}/tls (set POSTWARDEN_TLS_CERT/_KEY for a real one)`
      : `  TLS: certificate ${config.tlsCert}`,
  ];
}

/**
 * The worker role: the delivery worker and its upstreams (loaded on demand, so an
 * intake-only process never loads delivery code). Returns its banner line.
 */
export async function startWorkerRole(context: RoleContext): Promise<string[]> {
  const { config, services, metrics, signals, logger, steps } = context;
  const [{ createUpstreams }, { startDeliveryWorker }, { captureDir }] = await Promise.all([
    import('../upstream/from-url.js'),
    import('../delivery/worker.js'),
    import('../upstream/capture.js'),
  ]);
  const upstream = createUpstreams(config.upstreams, {
    dataDir: config.dataDir,
    logger,
    idleSessions: config.workerConcurrency,
    wrap: (one) => signals.trackUpstream(one),
  });
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
      signals.recordOutcome(outcome);
    },
  });
  steps.push({ name: 'delivery worker', run: () => worker.close(context.drainDeadlineMs) });
  const destinations = config.upstreams
    .map((spec) =>
      spec.kind === 'capture' ? `capture (kept in ${captureDir(config.dataDir)})` : spec.label,
    )
    .join(', then ');
  return [`  Delivery:  ${config.workerConcurrency} at a time to ${destinations}`];
}

/** A listen failure as one line naming the variable to change (CONTRACT §Configuration). */
export function listenError(
  variable: string,
  host: string,
  port: number,
  error: unknown,
): PostwardenError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EADDRINUSE'
      ? 'is already in use'
      : code === 'EACCES'
        ? 'needs privileges (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
        : code === 'EADDRNOTAVAIL'
          ? 'is on an address this machine does not have'
          : `failed (${(error as Error).message})`;
  return new PostwardenError(
    'listen_failed',
    `cannot listen on ${hostForUrl(host)}:${port}: the port ${why}; change ${variable}`,
  );
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
