import type { Logger } from 'pino';
import type { AttackView } from '../observability/attack-stats.js';
import type { ThroughputPoint } from '../observability/throughput.js';
import type { UpstreamStatus } from '../observability/upstream-status.js';
import type { QueueOperator, SuppressionOperator } from '../queue/operator.js';
import type { AbuseGuard } from '../security/abuse-guard.js';
import type { CredentialStore } from '../security/credentials/store.js';
import type { Form } from '../security/forms/form-store.js';
import type { SecurityOperator } from '../security/operator-actions.js';
import type { SettingsStore } from '../security/settings-store.js';
import type { SessionStore } from './session.js';

/**
 * The queue operations the admin page calls — the same the CLI calls (ARCHITECTURE §19);
 * the admin holds no queue logic of its own and reaches messages only through these.
 */
export type AdminOperator = Pick<
  QueueOperator,
  | 'stats'
  | 'show'
  | 'retry'
  | 'retryAllFailed'
  | 'search'
  | 'listFailed'
  | 'rawMessage'
  | 'holds'
  | 'holdInfo'
  | 'hold'
  | 'release'
  | 'purge'
  | 'pause'
  | 'resume'
  | 'pauseState'
  | 'auditLog'
>;

/** A captured message's listing entry (upstream/capture.ts CapturedMeta). */
export interface CapturedMeta {
  id: string;
  envelope: { from: string; to: string[] };
  capturedAt: string;
  size: number;
}

/** The `capture` upstream's mailbox (upstream/capture.ts CaptureStore), newest first. */
export interface AdminCaptureStore {
  list(limit: number, offset?: number): Promise<{ total: number; items: CapturedMeta[] }>;
  get(id: string): Promise<{ meta: CapturedMeta; raw: Buffer } | undefined>;
}

/** What the overview reads of the relay's activity (observability/, written by the edges). */
export interface AdminActivity {
  throughput: { read(minutes?: number): Promise<ThroughputPoint[]> };
  upstreams: { list(labels: readonly string[]): Promise<UpstreamStatus[]> };
  /** Failed logins and bans over the last day (the attack view). */
  attacks: { read(): Promise<AttackView> };
}

/** A quarantined form post as listed (queue/form-quarantine.ts QuarantinedPost). */
export interface QuarantinedPost {
  id: string;
  form: string;
  recipients: string[];
  createdAt: string;
  size: number;
}

/**
 * Lead forms (issue 12): the same operations as `postwarden forms` (security/forms and
 * queue/form-quarantine, wired by the intake role).
 */
export interface AdminForms {
  list(): Promise<Form[]>;
  remove(name: string): Promise<boolean>;
  spam(): Promise<QuarantinedPost[]>;
  release(id: string): Promise<{ released: boolean }>;
}

/** One webhook try as the admin page shows it (webhooks/endpoint-store.ts WebhookAttempt). */
export interface WebhookAttemptView {
  at: string;
  eventId: string;
  type: string;
  attempt: number;
  statusCode?: number | undefined;
  error?: string | undefined;
  latencyMs: number;
  outcome: string;
  nextRetryAt?: string | undefined;
}

/** A webhook endpoint without its secrets, with its newest attempts (webhooks/operator.ts). */
export interface WebhookEndpointView {
  id: string;
  url: string;
  credentialName?: string | undefined;
  events: readonly string[];
  disabled: boolean;
  disabledReason?: string | undefined;
  createdAt: string;
  attempts: WebhookAttemptView[];
}

/** Webhooks (issue 13): the same operations as `postwarden webhooks`, audited as `admin`. */
export interface AdminWebhooks {
  list(): Promise<WebhookEndpointView[]>;
  replay(id: string, eventId: string): Promise<boolean>;
}

export interface AdminDeps extends AdminActivity {
  operator: AdminOperator;
  /** Reads (list); every change goes through `security` (audited). */
  credentials: CredentialStore;
  forms: AdminForms;
  /** Suppression lists (issue 13): the operations `postwarden suppressions` calls, audited. */
  suppressions: Pick<SuppressionOperator, 'list' | 'add' | 'removeEntry'>;
  /** Absent in tests that build the admin without webhooks: the page then lists none. */
  webhooks?: AdminWebhooks | undefined;
  abuseGuard: AbuseGuard;
  /** Credential, ban and password changes, each written to the audit log as `admin`. */
  security: Pick<SecurityOperator, 'createCredential' | 'revokeCredential' | 'unban'>;
  /** The admin password's owner (login checks go through it). */
  settings: Pick<SettingsStore, 'verifyAdminPassword'>;
  sessions: SessionStore;
  captureStore?: AdminCaptureStore | undefined;
  /** Printable labels of the configured upstreams, in failover order. */
  upstreamLabels: readonly string[];
  logger: Logger;
  /** Mark cookies Secure (the admin is served over TLS or behind a TLS proxy). */
  secureCookies: boolean;
}
