import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { MailQueue } from '../queue/mail-queue.js';
import type { MessageStore } from '../queue/message-store.js';
import type { QueueOperator } from '../queue/operator.js';
import type { Keys } from '../redis/keys.js';
import type { AbuseGuard } from '../security/abuse-guard.js';
import type { CredentialStore } from '../security/credentials/store.js';

/**
 * The queue operations the admin page calls — the same the CLI calls (ARCHITECTURE §19);
 * the admin holds no queue logic of its own.
 */
export type AdminOperator = Pick<QueueOperator, 'stats' | 'show' | 'retry' | 'retryAllFailed'>;

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

export interface AdminDeps {
  redis: Redis;
  keys: Keys;
  store: MessageStore;
  queue: MailQueue;
  operator: AdminOperator;
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  captureStore?: AdminCaptureStore | undefined;
  /** Printable labels of the configured upstreams, in failover order. */
  upstreamLabels: readonly string[];
  logger: Logger;
  /** Mark cookies Secure (the admin is served over TLS or behind a TLS proxy). */
  secureCookies: boolean;
}
