import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RecipientOutcome } from '../message/types.js';

/**
 * Every Prometheus metric Postwarden exports, declared once (ARCHITECTURE §13), in one
 * registry per runtime — never prom-client's global default registry, so tests can build
 * many runtimes in one process. Label values are closed sets (never ids or IPs).
 * The names are part of the contract (CONTRACT §HTTP API) and of deploy/prometheus and
 * deploy/grafana; test/integration/metrics-drift.test.ts keeps them in step.
 */
export const ACCEPT_PROTOCOLS = ['http', 'smtp'] as const;
export const AUTH_PROTOCOLS = ['smtp', 'http', 'admin'] as const;
export const DELIVERY_OUTCOMES = [
  'delivered',
  'deferred',
  'bounced',
  'expired',
  'suppressed',
] as const satisfies readonly RecipientOutcome[];
/** Lead forms (issue 12): what became of one form submission. */
export const FORM_VERDICTS = ['accepted', 'quarantined', 'refused'] as const;
export type FormVerdict = (typeof FORM_VERDICTS)[number];
/** postwarden_webhook_deliveries_total{outcome}: one per webhook try (issue 13). */
export const WEBHOOK_OUTCOMES = ['delivered', 'failed', 'gave_up', 'disabled'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];
export const QUEUE_STATES = ['waiting', 'active', 'deferred', 'failed'] as const;

export type AcceptProtocol = (typeof ACCEPT_PROTOCOLS)[number];
export type AuthProtocol = (typeof AUTH_PROTOCOLS)[number];
export type QueueState = (typeof QUEUE_STATES)[number];

/** What the scrape-time gauges read; each is optional (a worker-only runtime has fewer). */
export interface MetricSources {
  /** Queue counts by state and the oldest queued message's age (QueueOperator.stats). */
  queue?: () => Promise<
    Partial<Record<QueueState, number>> & { oldestQueuedAgeSeconds?: number | null }
  >;
  /** Number of IPs banned now (AbuseGuard.listBans().length). */
  bansActive?: () => Promise<number>;
  /** The same judgement as /readyz: Redis reachable and durability met. */
  ready?: () => boolean | Promise<boolean>;
  /** Unix seconds of the last successful `postwarden selftest` (kept in Redis by the CLI). */
  selftestLastSuccess?: () => Promise<number | undefined>;
  /** Holds and the kill switch, shared by every process through Redis (QueueOperator). */
  containment?: () => Promise<{
    credentialsHeld: number;
    messagesHeld: number;
    paused: boolean;
    holdsTotal: Record<HoldReason, number>;
  }>;
  /** Entries on every suppression list (one ZCARD of a count kept at each add/remove). */
  suppressions?: () => Promise<number>;
  /** POSTWARDEN_MAX_INFLIGHT_BYTES: bytes reserved now and the limit (intake roles). */
  inflight?: () => { inUse: number; limit: number };
}

export const HOLD_REASONS = ['volume', 'manual'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

export interface Metrics {
  readonly registry: Registry;
  messageAccepted(protocol: AcceptProtocol): void;
  deliveryFinished(outcome: RecipientOutcome, seconds: number): void;
  authFailed(protocol: AuthProtocol): void;
  /** Lead forms: `form` is an operator-chosen form name (bounded by the forms that exist). */
  formSubmission(form: string, verdict: FormVerdict): void;
  /** One webhook try: delivered (2xx), failed (retried), gave_up (lifetime over), disabled (410). */
  webhookDelivery(outcome: WebhookOutcome): void;
  /** Unix seconds of the last successful `postwarden selftest` run. */
  selftestSucceeded(atSeconds?: number): void;
  /** A message refused because POSTWARDEN_MAX_INFLIGHT_BYTES was reached. */
  inflightRefused(protocol: AcceptProtocol): void;
  /** Connect the scrape-time gauges to the services that know the answers. */
  setSources(sources: MetricSources): void;
  /** The Prometheus text exposition of everything in this registry. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** The gauges read from a source at scrape time (MetricSources), with their help texts. */
const SCRAPED_HELP = {
  postwarden_selftest_last_success: 'Unix time of the last successful selftest (0 = never).',
  postwarden_oldest_queued_age_seconds:
    'Age of the oldest message still waiting for delivery (0 when none waits).',
  postwarden_bans_active: 'Client IPs banned by the abuse guard now.',
  postwarden_ready:
    '1 when Redis is reachable and the durability setting is met (as /readyz), else 0.',
  postwarden_credentials_held: 'Credentials on hold now (containment).',
  postwarden_messages_held: 'Messages held now, waiting for release or purge.',
  postwarden_delivery_paused: '1 while delivery is paused (postwarden pause), else 0.',
  postwarden_suppressions: 'Addresses on the suppression lists, all credentials together.',
} as const;

/** A failing source leaves its gauge unset for this scrape rather than failing /metrics. */
async function safely<T>(read: (() => T | Promise<T>) | undefined): Promise<T | undefined> {
  if (!read) return undefined;
  try {
    return await read();
  } catch {
    return undefined;
  }
}

/** A counter with labels in `registry` (the newer metrics are declared through this). */
function labelledCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  let sources: MetricSources = {};

  const accepted = new Counter({
    name: 'postwarden_messages_accepted_total',
    help: 'Messages durably queued, by intake protocol.',
    labelNames: ['protocol'],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'postwarden_deliveries_total',
    help: 'Delivery attempts finished, by outcome (delivered, deferred, bounced, expired, suppressed).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'postwarden_delivery_duration_seconds',
    help: 'Time one delivery attempt took, upstream conversation included.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'postwarden_auth_failures_total',
    help: 'Failed authentications, by protocol (smtp, http, admin).',
    labelNames: ['protocol'],
    registers: [registry],
  });
  // Lead forms (issue 12). No zero series up front: form names are the operator's.
  const formSubmissions = labelledCounter(
    registry,
    'postwarden_form_submissions_total',
    'Lead form submissions, by form name and verdict (accepted, quarantined, refused).',
    ['form', 'verdict'],
  );
  const webhookDeliveries = labelledCounter(
    registry,
    'postwarden_webhook_deliveries_total',
    'Webhook tries, by outcome (delivered, failed = will be retried, gave_up, disabled = 410).',
    ['outcome'],
  );
  /** A gauge set at scrape time from a source; a failing source leaves it unset then. */
  function scrapedGauge(name: keyof typeof SCRAPED_HELP, read: () => Promise<number | undefined>) {
    return new Gauge({
      name,
      help: SCRAPED_HELP[name],
      registers: [registry],
      async collect() {
        const value = await read();
        if (value !== undefined) this.set(value);
      },
    });
  }
  const selftest = scrapedGauge('postwarden_selftest_last_success', () =>
    safely(sources.selftestLastSuccess),
  );
  scrapedGauge('postwarden_oldest_queued_age_seconds', async () => {
    const stats = await safely(sources.queue);
    return stats && (stats.oldestQueuedAgeSeconds ?? 0);
  });
  scrapedGauge('postwarden_bans_active', () => safely(sources.bansActive));
  scrapedGauge('postwarden_ready', async () => ((await safely(sources.ready)) ? 1 : 0));
  const containment = () => safely(sources.containment);
  scrapedGauge('postwarden_credentials_held', async () => (await containment())?.credentialsHeld);
  scrapedGauge('postwarden_messages_held', async () => (await containment())?.messagesHeld);
  scrapedGauge('postwarden_delivery_paused', async () => {
    const state = await containment();
    return state && (state.paused ? 1 : 0);
  });
  scrapedGauge('postwarden_suppressions', () => safely(sources.suppressions));
  // A counter kept in Redis (every process and the CLI hold), read at scrape time.
  new Counter({
    name: 'postwarden_holds_total',
    help: 'Credentials put on hold so far, by reason (volume, manual).',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const state = await containment();
      if (!state) return;
      this.reset();
      for (const reason of HOLD_REASONS) this.inc({ reason }, state.holdsTotal[reason] ?? 0);
    },
  });
  new Gauge({
    name: 'postwarden_queue_messages',
    help: 'Messages in the delivery queue, by state (waiting, active, deferred, failed).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const stats = await safely(sources.queue);
      if (!stats) return;
      for (const state of QUEUE_STATES) this.set({ state }, stats[state] ?? 0);
    },
  });

  const inflightRefusals = declareInflightMetrics(registry, () => sources.inflight?.());

  // Every bounded label value exists from the start, so rate() and absence alerts work
  // before the first event of a kind.
  for (const protocol of ACCEPT_PROTOCOLS) accepted.inc({ protocol }, 0);
  for (const outcome of DELIVERY_OUTCOMES) deliveries.inc({ outcome }, 0);
  for (const protocol of AUTH_PROTOCOLS) authFailures.inc({ protocol }, 0);
  for (const outcome of WEBHOOK_OUTCOMES) webhookDeliveries.inc({ outcome }, 0);
  selftest.set(0);

  return {
    registry,
    contentType: registry.contentType,
    messageAccepted(protocol) {
      if (isOneOf(ACCEPT_PROTOCOLS, protocol)) accepted.inc({ protocol });
    },
    deliveryFinished(outcome, seconds) {
      if (!isOneOf(DELIVERY_OUTCOMES, outcome)) return;
      deliveries.inc({ outcome });
      // A suppressed recipient had no attempt: nothing to time.
      if (outcome === 'suppressed') return;
      if (Number.isFinite(seconds) && seconds >= 0) duration.observe(seconds);
    },
    formSubmission(form, verdict) {
      if (isOneOf(FORM_VERDICTS, verdict)) formSubmissions.inc({ form, verdict });
    },
    webhookDelivery(outcome) {
      if (isOneOf(WEBHOOK_OUTCOMES, outcome)) webhookDeliveries.inc({ outcome });
    },
    authFailed(protocol) {
      if (isOneOf(AUTH_PROTOCOLS, protocol)) authFailures.inc({ protocol });
    },
    inflightRefused(protocol) {
      if (isOneOf(ACCEPT_PROTOCOLS, protocol)) inflightRefusals.inc({ protocol });
    },
    selftestSucceeded(atSeconds = Math.floor(Date.now() / 1000)) {
      selftest.set(atSeconds);
    },
    setSources(next) {
      sources = { ...sources, ...next };
    },
    render: () => registry.metrics(),
  };
}

/**
 * The memory budget (POSTWARDEN_MAX_INFLIGHT_BYTES): bytes reserved now, the limit, and
 * the messages refused for it, by protocol. Read from the process's own budget, no I/O.
 */
function declareInflightMetrics(
  registry: Registry,
  read: () => { inUse: number; limit: number } | undefined,
): Counter<'protocol'> {
  new Gauge({
    name: 'postwarden_inflight_bytes',
    help: 'Message bytes held by clients being received now (POSTWARDEN_MAX_INFLIGHT_BYTES).',
    registers: [registry],
    collect() {
      const state = read();
      if (state) this.set(state.inUse);
    },
  });
  new Gauge({
    name: 'postwarden_inflight_limit_bytes',
    help: 'POSTWARDEN_MAX_INFLIGHT_BYTES: the most message bytes held while receiving.',
    registers: [registry],
    collect() {
      const state = read();
      if (state) this.set(state.limit);
    },
  });
  const refusals = labelledCounter(
    registry,
    'postwarden_inflight_refusals_total',
    'Messages refused for now because the in-flight byte budget was full (452 4.3.1 / 503).',
    ['protocol'],
  );
  for (const protocol of ACCEPT_PROTOCOLS) refusals.inc({ protocol }, 0);
  return refusals;
}
