import type { FastifyPluginAsync } from 'fastify';
import type { AdminRoute } from '../admin/plugin.js';
import type { Config } from '../config/load.js';
import { PostwardenError } from '../errors.js';
import type { SmtpIntakeDeps } from '../intake/smtp/server.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ThroughputRecorder } from '../observability/throughput.js';
import type { UpstreamStatusStore } from '../observability/upstream-status.js';
import type { QueueOperator } from '../queue/operator.js';
import type { Resolver } from '../security/webhook-target.js';
import type { UpstreamOptions } from '../upstream/from-url.js';
import type { Services } from './services.js';
import type { ShutdownStep } from './shutdown.js';

/** `postwarden start --role`: every role in one process, or intake and workers apart. */
export const ROLES = ['all', 'intake', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export function parseRole(text: string | undefined): Role | undefined {
  const value = text ?? 'all';
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : undefined;
}

/** What only tests set: everything else comes from the configuration. */
export interface RelayOverrides {
  role?: Role;
  logger?: Logger;
  /** Key prefix of everything in Redis (several relays on one Redis). */
  keyPrefix?: string;
  /** How long a credential read is trusted in-process (CredentialCache's TTL). */
  credentialCacheTtlMs?: number;
  /** SMTP upstream knobs: an extra trusted CA, shorter timeouts. */
  upstream?: Pick<UpstreamOptions, 'ca' | 'timeouts'>;
  /** SMTP intake knobs: the name in the greeting, connections per listener, any free SMTPS port. */
  smtp?: Partial<Pick<SmtpIntakeDeps, 'hostname' | 'maxClients' | 'smtpsPort'>>;
  /** Webhooks: host resolution (tests: loopback names only), the rotate window's clock. */
  webhooks?: { resolve?: Resolver; now?: () => number; timeoutMs?: number };
}

/**
 * What delivery and the intake report beyond metrics: accepted/delivered per minute and
 * each upstream's last success/error, in Redis so every process contributes. Built once
 * by the composition root; the edges write it, the admin page reads it.
 */
export interface Activity {
  throughput: ThroughputRecorder;
  upstreams: UpstreamStatusStore;
}

/** What the composition root hands each role. */
export interface RoleContext {
  config: Readonly<Config>;
  logger: Logger;
  services: Services;
  operator: QueueOperator;
  metrics: Metrics;
  activity: Activity;
  overrides: RelayOverrides;
}

/** Where a started role's shutdown steps go, in the order they must run. */
export interface ShutdownPlan {
  /** Listeners: they stop first, so nothing new is accepted while workers drain. */
  stopAccepting: ShutdownStep[];
  /** Deliveries in flight. */
  drain: ShutdownStep[];
}

export interface StartedRole {
  /** Banner lines saying where it listens or delivers. */
  banner: string[];
  /** The bound SMTP ports (intake roles). */
  smtp?: { submissionPort: number; smtpsPort: number | undefined };
  /** The admin password generated on the very first start, to be printed once. */
  generatedAdminPassword?: string | undefined;
}

/** One role as the composition root assembles it: routes first, then start. */
export interface RolePart {
  /** Routes on the role's HTTP listener beyond /healthz, /readyz and /metrics. */
  httpPlugins: FastifyPluginAsync[];
  /** The admin page's routes (intake), for the security tests. */
  adminRoutes: readonly AdminRoute[];
  start(httpUrl: string, plan: ShutdownPlan): Promise<StartedRole>;
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

export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
