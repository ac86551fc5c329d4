import { readAll } from '../message/body-source.js';
import type { MessageStatus, MessageView } from '../message/types.js';
import type { AuditEntry } from '../observability/audit-log.js';
import { ContainmentOperator, type OperatorDeps, type PauseState } from './containment-operator.js';
import { type HoldInfo, PURGEABLE_STATUSES, type PurgeableStatus } from './holds.js';
import type { MailQueue } from './mail-queue.js';
import {
  type MessageSearch,
  type MessageSummary,
  searchMessages,
  summarize,
} from './message-search.js';
import type { MessageStore } from './message-store.js';
import type { PurgeFilter } from './purge.js';

export type {
  AuditEntry,
  HoldInfo,
  MessageSearch,
  MessageSummary,
  OperatorDeps,
  PauseState,
  PurgeableStatus,
  PurgeFilter,
};
export { PURGEABLE_STATUSES };

export interface QueueStats {
  /** Jobs waiting for a worker. */
  waiting: number;
  /** Jobs being delivered now. */
  active: number;
  /** Jobs waiting for their retry delay (some recipients deferred). */
  deferred: number;
  /** Jobs that ended failed (expired). */
  failed: number;
  /** Messages by status (queued, deferred, delivered, bounced, expired, partial). */
  byStatus: Record<string, number>;
  /** Age of the oldest message still queued or deferred; null when none is. */
  oldestQueuedAgeSeconds: number | null;
}

export interface RetryFilter {
  /** A message status; by default every retryable one (bounced, expired, partial). */
  status?: string | undefined;
  credential?: string | undefined;
  /** Only messages created at or after this time (ms since the epoch). */
  since?: number | undefined;
}

/** Statuses that can hold bounced or expired recipients once nothing is pending. */
const FINISHED_WITH_FAILURES: ReadonlySet<MessageStatus> = new Set([
  'bounced',
  'expired',
  'partial',
]);
const PAGE = 500;

/**
 * Queue operations shared by the CLI and the admin page (ARCHITECTURE §19): they hold no
 * logic of their own. Retry puts bounced/expired recipients back on the queue with a fresh
 * retry lifetime (CONTRACT: "failed messages can be retried by an operator"). Hold,
 * release, purge, pause and resume are containment (CONTRACT §Containment). Every state
 * change is written to the audit log here, with the actor this operator was built for, so
 * neither edge can forget it.
 */
export class QueueOperator extends ContainmentOperator {
  readonly #store: MessageStore;
  readonly #queue: MailQueue;

  constructor(store: MessageStore, queue: MailQueue, deps: OperatorDeps) {
    super(store, queue, deps);
    this.#store = store;
    this.#queue = queue;
  }

  async stats(now = Date.now()): Promise<QueueStats> {
    const [counts, summary] = await Promise.all([
      this.#queue.counts(),
      this.#store.statusSummary(),
    ]);
    const oldest = summary.oldestPendingCreatedAtMs;
    return {
      waiting: counts.waiting,
      active: counts.active,
      deferred: counts.delayed,
      failed: counts.failed,
      byStatus: summary.byStatus,
      oldestQueuedAgeSeconds:
        oldest === null ? null : Math.max(0, Math.floor((now - oldest) / 1000)),
    };
  }

  async show(id: string): Promise<(MessageView & { credential: string }) | undefined> {
    return this.#store.view(id);
  }

  /** The stored bytes, as they will be (or were) delivered; null once the body is gone. */
  async rawMessage(id: string): Promise<Buffer | null> {
    const body = (await this.#store.loadForDelivery(id))?.body;
    return body ? readAll(body) : null;
  }

  /** A page of messages matching an operator's search, newest first. */
  async search(search: MessageSearch): Promise<{ rows: MessageSummary[]; hasMore: boolean }> {
    return searchMessages(this.#store, search);
  }

  /** How many failed messages match the filter, and the first `limit` of them. */
  async listFailed(
    filter: RetryFilter,
    limit: number,
  ): Promise<{ matched: number; rows: MessageSummary[] }> {
    const ids = await this.#findFailed(filter);
    const stored = await Promise.all(ids.slice(0, limit).map((id) => this.#store.get(id)));
    return {
      matched: ids.length,
      rows: stored.flatMap((message) => (message ? [summarize(message)] : [])),
    };
  }

  /**
   * Retry one message: its bounced/expired recipients go back to queued with a `retried`
   * event and a fresh lifetime, and it gets a new job. A message left with queued
   * recipients but no job (a retry interrupted before its requeue) is requeued as well.
   */
  async retry(id: string): Promise<{ retried: boolean; reason?: string }> {
    const result = await this.#retry(id);
    await this.audit('retry', id, result.retried ? 'retried' : `not retried: ${result.reason}`);
    return result;
  }

  async #retry(id: string): Promise<{ retried: boolean; reason?: string }> {
    const stored = await this.#store.get(id);
    if (!stored) return { retried: false, reason: 'no such message' };
    if (!(await this.#store.hasBody(id))) {
      return { retried: false, reason: `nothing to retry: message is ${stored.status}` };
    }
    const marked = await this.#store.markRetried(id, 'retried by an operator');
    if ('refused' in marked) {
      if (marked.refused === 'not_found') return { retried: false, reason: 'no such message' };
      if (await this.#queue.hasJob(id)) {
        return { retried: false, reason: 'message is still being delivered' };
      }
      // Pending recipients without a job: finish the interrupted retry.
      await this.#queue.requeue(id);
      return { retried: true };
    }
    if (marked.reset === 0) {
      return { retried: false, reason: `nothing to retry: message is ${stored.status}` };
    }
    await this.#queue.requeue(id);
    return { retried: true };
  }

  /** Retry every failed message matching the filter; with dryRun, only count them. */
  async retryAllFailed(options: {
    dryRun: boolean;
    filter?: RetryFilter;
  }): Promise<{ matched: number; ids: string[] }> {
    const ids = await this.#findFailed(options.filter ?? {});
    if (options.dryRun) return { matched: ids.length, ids };
    const retried: string[] = [];
    for (const id of ids) {
      if ((await this.#retry(id)).retried) retried.push(id);
    }
    await this.audit('retry-all-failed', '*', `${retried.length} of ${ids.length} retried`);
    return { matched: ids.length, ids: retried };
  }

  async #findFailed(filter: RetryFilter): Promise<string[]> {
    const found: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.#store.listIds(offset, PAGE, filter.since ?? 0);
      for (const id of page) {
        if (await this.#isRetryable(id, filter)) found.push(id);
      }
      if (page.length < PAGE) return found;
    }
  }

  async #isRetryable(id: string, filter: RetryFilter): Promise<boolean> {
    const stored = await this.#store.get(id);
    if (!stored || !FINISHED_WITH_FAILURES.has(stored.status)) return false;
    if (filter.status !== undefined && stored.status !== filter.status) return false;
    if (filter.credential !== undefined && stored.credential !== filter.credential) return false;
    if (stored.status !== 'partial') return true;
    const recipients = await this.#store.recipients(id);
    return recipients.some((r) => r.status === 'bounced' || r.status === 'expired');
  }
}
