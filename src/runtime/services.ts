import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { AttackStats } from '../observability/attack-stats.js';
import { AuditLog } from '../observability/audit-log.js';
import { CaptureIndex } from '../queue/capture-index.js';
import { FormQuarantine } from '../queue/form-quarantine.js';
import { Holds } from '../queue/holds.js';
import { MailQueue } from '../queue/mail-queue.js';
import { MessageStore } from '../queue/message-store.js';
import { QueueOperator } from '../queue/operator.js';
import { SuppressionOperator, type SuppressionOwner } from '../queue/suppression-operator.js';
import { SuppressionList } from '../queue/suppressions.js';
import { closeRedis, createRedis, waitForReady } from '../redis/connections.js';
import { DurabilityMonitor } from '../redis/durability.js';
import { createKeys, type Keys } from '../redis/keys.js';
import { AbuseGuard, type AuthFailure } from '../security/abuse-guard.js';
import { CredentialStore } from '../security/credentials/store.js';
import { FormStore, formOwner } from '../security/forms/form-store.js';
import { SecurityOperator } from '../security/operator-actions.js';
import { SettingsStore } from '../security/settings-store.js';
import type { Resolver } from '../security/webhook-target.js';
import { WebhookEndpointStore } from '../webhooks/endpoint-store.js';
import { WebhookOperator } from '../webhooks/operator.js';
import { WebhookQueue } from '../webhooks/webhook-queue.js';

/**
 * The Redis-backed services every role and every CLI command shares, built on one
 * fail-fast producer connection. Built by runtime/compose (server) and cli (management);
 * what only one role needs (the accept door, the delivery worker) is wired by that role.
 */
export interface Services {
  redisUrl: string;
  redis: Redis;
  keys: Keys;
  store: MessageStore;
  queue: MailQueue;
  durability: DurabilityMonitor;
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  /** Failed logins and bans over the last day (the admin page's attack view). */
  attacks: AttackStats;
  settings: SettingsStore;
  holds: Holds;
  audit: AuditLog;
  logger: Logger;
  // Lead forms (issue 12).
  forms: FormStore;
  formQuarantine: FormQuarantine;
  /** What the capture upstream kept (the admin's mailbox page lists it). */
  captureIndex: CaptureIndex;
  // Suppressions (issue 13).
  suppressions: SuppressionList;
  // Webhooks (issue 13).
  webhooks: WebhookEndpointStore;
  webhookQueue: WebhookQueue;
  close(): Promise<void>;
}

/** The operator's credential, ban and password changes, audited as `actor`. */
export function createSecurityOperator(services: Services, actor: string): SecurityOperator {
  const { credentials, abuseGuard, settings, audit } = services;
  return new SecurityOperator({ credentials, abuseGuard, settings, audit, actor });
}

/** The operator's queue and containment operations, audited as `actor` (admin, cli:USER). */
export function createOperator(services: Services, actor: string): QueueOperator {
  const { store, queue, holds, audit, logger } = services;
  return new QueueOperator(store, queue, { holds, audit, logger, actor });
}

/**
 * The operator's suppression list changes, audited as `actor`. Names resolve to the
 * current credential's immutable id (revoked ones are unknown), or to a form principal.
 */
export function createSuppressionOperator(services: Services, actor: string): SuppressionOperator {
  const { credentials, forms, suppressions, audit } = services;
  const formOwners = async (): Promise<SuppressionOwner[]> =>
    (await forms.list()).map((form) => ({ id: formOwner(form.name), name: formOwner(form.name) }));
  return new SuppressionOperator({
    suppressions,
    audit,
    actor,
    async resolveOwner(name) {
      if (name.startsWith('form:')) return (await formOwners()).find((one) => one.name === name);
      const credential = await credentials.get(name);
      return credential && !credential.revoked
        ? { id: credential.id, name: credential.name }
        : undefined;
    },
    async allOwners() {
      const current = (await credentials.list()).filter((credential) => !credential.revoked);
      return [
        ...current.map((credential) => ({ id: credential.id, name: credential.name })),
        ...(await formOwners()),
      ];
    },
  });
}

/** The operator's webhook changes (add checks the URL: SSRF), audited as `actor`. */
export function createWebhookOperator(
  services: Services,
  config: Readonly<Config>,
  actor: string,
  resolve?: Resolver,
): WebhookOperator {
  return new WebhookOperator({
    endpoints: services.webhooks,
    credentials: services.credentials,
    audit: services.audit,
    queue: services.webhookQueue,
    allowPrivate: config.webhookAllowPrivate,
    resolve,
    actor,
  });
}

export async function createServices(
  config: Readonly<Config>,
  redisUrl: string,
  logger: Logger,
  options: {
    keyPrefix?: string;
    connectTimeoutMs?: number;
    /** How long a credential read is trusted in-process (CredentialCache; tests lengthen it). */
    credentialCacheTtlMs?: number | undefined;
    /** Every counted authentication failure (the server's metrics). */
    onAuthFailure?: (failure: AuthFailure) => void;
  } = {},
): Promise<Services> {
  const redis = createRedis(redisUrl, 'producer', 'intake');
  redis.on('error', () => {
    // Connection errors surface as failed commands (451/503) and in /readyz.
  });
  await waitForReady(redis, options.connectTimeoutMs ?? 10_000);
  const keys = createKeys(options.keyPrefix);
  const store = new MessageStore(redis, keys);
  const queue = new MailQueue(redis, keys);
  const durability = new DurabilityMonitor(redis, config.durability, 5000, config.minReplicas);
  await durability.refresh();
  const credentials = new CredentialStore(redis, keys, { ttlMs: options.credentialCacheTtlMs });
  // Failures and bans feed the admin page's attack view in every process that checks a secret.
  const attacks = new AttackStats(redis, keys);
  const abuseGuard = new AbuseGuard(redis, keys, logger, {
    trustedNetworks: config.trustedNetworks,
    onFailure: (failure) => {
      attacks.recordFailure(failure);
      options.onAuthFailure?.(failure);
    },
    onBan: (ban) => attacks.recordBan(ban),
  });
  const settings = new SettingsStore(redis, keys);
  const holds = new Holds(redis, keys, queue);
  const audit = new AuditLog(redis, keys);
  const webhookQueue = new WebhookQueue(redis, keys);
  let closed = false;
  return {
    redisUrl,
    redis,
    keys,
    store,
    queue,
    durability,
    credentials,
    abuseGuard,
    attacks,
    settings,
    holds,
    audit,
    logger,
    forms: new FormStore(redis, keys),
    formQuarantine: new FormQuarantine(redis, keys),
    captureIndex: new CaptureIndex(redis, keys),
    suppressions: new SuppressionList(redis, keys),
    webhooks: new WebhookEndpointStore(redis, keys),
    webhookQueue,
    async close() {
      if (closed) return;
      closed = true;
      durability.close();
      await queue.close();
      await webhookQueue.close();
      await closeRedis(redis);
    },
  };
}
