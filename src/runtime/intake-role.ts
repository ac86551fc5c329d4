import { createAdminPlugin } from '../admin/plugin.js';
import { SessionStore } from '../admin/session.js';
import type { Config } from '../config/load.js';
import type { AcceptDeps } from '../intake/accept.js';
import { FormPow } from '../intake/forms/pow.js';
import { formsRoutes } from '../intake/forms/routes.js';
import { createApiPlugin } from '../intake/http/api-plugin.js';
import { inflightBudgetPlugin } from '../intake/http/inflight-hook.js';
import { createOpenApiPlugin } from '../intake/http/openapi.js';
import { InflightBudget } from '../intake/inflight-budget.js';
import { createSmtpIntake } from '../intake/smtp/server.js';
import { ADMIN_ACTOR } from '../observability/audit-log.js';
import type { Logger } from '../observability/logger.js';
import { Staging } from '../queue/staging.js';
import { CredentialRateLimiter } from '../security/rate-limit.js';
import { CaptureStore } from '../upstream/capture.js';
import { hostForUrl, listenError, type RoleContext, type RolePart } from './roles.js';
import {
  createSecurityOperator,
  createSuppressionOperator,
  createWebhookOperator,
  type Services,
} from './services.js';
import { loadOrCreateTls } from './tls.js';

/**
 * The intake role: the message API and the admin page on the HTTP listener, and SMTP
 * (submission + SMTPS). Loaded only by processes that run it (compose.ts), so a
 * worker-only process never loads the intake. The accept door is built here, once, with
 * its hooks, because only this role accepts.
 */
export async function buildIntakeRole(context: RoleContext): Promise<RolePart> {
  const { config, services, operator, metrics, activity, logger, overrides } = context;
  const firstRun = await services.settings.ensureAdminPassword(config.adminPassword);
  const accept = createAcceptDoor(config, services, logger, (protocol) => {
    metrics.messageAccepted(protocol);
    activity.throughput.recordAccepted();
  });
  // One budget for every SMTP session and HTTP request of this process.
  const budget = new InflightBudget(config.maxInflightBytes, {
    onRefused: (protocol) => metrics.inflightRefused(protocol),
  });
  metrics.setSources({ inflight: () => ({ inUse: budget.inUse, limit: budget.limit }) });
  const admin = createAdminPlugin({
    operator,
    security: createSecurityOperator(services, ADMIN_ACTOR),
    credentials: services.credentials,
    forms: {
      list: () => services.forms.list(),
      remove: (name) => services.forms.remove(name),
      spam: () => services.formQuarantine.list(),
      release: (id) => services.formQuarantine.release(id, accept.staging),
    },
    suppressions: createSuppressionOperator(services, ADMIN_ACTOR),
    webhooks: createWebhookOperator(services, config, ADMIN_ACTOR, overrides.webhooks?.resolve),
    abuseGuard: services.abuseGuard,
    settings: services.settings,
    sessions: new SessionStore(services.redis, services.keys, services.settings),
    throughput: activity.throughput,
    upstreams: activity.upstreams,
    attacks: services.attacks,
    captureStore: config.upstreams.some((spec) => spec.kind === 'capture')
      ? new CaptureStore(config.dataDir, services.captureIndex)
      : undefined,
    upstreamLabels: config.upstreams.map((spec) => spec.label),
    logger,
    secureCookies: config.httpTls === 'on',
  });
  const api = createApiPlugin({
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    accept,
    store: services.store,
    suppressions: services.suppressions,
  });
  const forms = formsRoutes({
    forms: services.forms,
    quarantine: services.formQuarantine,
    pow: new FormPow(services.redis, services.keys),
    accept,
    formsFrom: config.formsFrom,
    onVerdict: (form, verdict) => metrics.formSubmission(form, verdict),
  });
  const tls = await loadOrCreateTls(config);
  const smtp = createSmtpIntake({
    host: config.smtpHost,
    submissionPort: config.smtpPort,
    smtpsPort: config.smtpsPort,
    tls: { key: tls.key, cert: tls.cert },
    maxMessageBytes: config.maxMessageBytes,
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    accept,
    logger,
    greetingDelayMs: config.smtpGreetingDelayMs,
    trustedProxies: config.trustedProxies,
    budget,
    ...overrides.smtp,
  });

  return {
    // The budget's hook first (it covers the routes of every plugin registered after it),
    // then OpenAPI (it describes the routes registered after it: intake/http/openapi.ts).
    httpPlugins: [inflightBudgetPlugin(budget), createOpenApiPlugin(), api, forms, admin],
    adminRoutes: admin.routes,
    async start(httpUrl, plan) {
      plan.stopAccepting.unshift({ name: 'smtp listeners', run: () => smtp.close(10_000) });
      let ports: { submissionPort: number; smtpsPort: number | undefined };
      try {
        ports = await smtp.listen();
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
      const smtpHost = hostForUrl(config.smtpHost);
      const banner = [
        `  HTTP API:  ${httpUrl}/v1/messages   (health ${httpUrl}/readyz, metrics ${httpUrl}/metrics)`,
        `  Admin:     ${httpUrl}/admin`,
        `  SMTP submission (STARTTLS): ${smtpHost}:${ports.submissionPort}`,
        ports.smtpsPort
          ? `  SMTPS (implicit TLS):        ${smtpHost}:${ports.smtpsPort}`
          : '  SMTPS: off (POSTWARDEN_SMTPS_PORT=0)',
        tls.generated || !config.tlsCert
          ? `  TLS: self-signed certificate in ${config.dataDir}/tls (set POSTWARDEN_TLS_CERT/_KEY for a real one)`
          : `  TLS: certificate ${config.tlsCert}`,
      ];
      return { banner, smtp: ports, generatedAdminPassword: firstRun.generated };
    },
  };
}

/**
 * What the one door (intake/accept.ts) needs, built once per intake with its hook fixed
 * at construction. Tests of the HTTP and SMTP edges build theirs here too.
 */
export function createAcceptDoor(
  config: Readonly<Config>,
  services: Services,
  logger: Logger,
  onAccepted?: AcceptDeps['onAccepted'],
): AcceptDeps {
  return {
    credentials: services.credentials,
    staging: new Staging(services.redis, services.keys, services.queue, {
      holdAbove: config.holdAbove,
      holdMax: config.holdMax,
    }),
    durability: services.durability,
    rateLimiter: new CredentialRateLimiter(services.redis, services.keys),
    limits: { maxRecipients: config.maxRecipients, maxMessageBytes: config.maxMessageBytes },
    logger,
    onAccepted,
  };
}
