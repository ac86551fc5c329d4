import { readAll } from '../message/body-source.js';
import type { MessageStatus, MessageView } from '../message/types.js';
import type { AuditEntry } from '../observability/audit-log.js';
import { ContainmentOperator, type OperatorDeps, type PauseState } from './containment-operator.js';
import { type HoldInfo, PURGEABLE_STATUSES, type PurgeableStatus } from './holds.js';
import type { MailQueue } from './mail-queue.js';
import {
  type MessageSearch,
  type MessageSummary,
  RECENT_SCANNED,
  searchMessages,
  summarize,
} from './message-search.js';
import type { MessageStore } from './message-store.js';
import type { PurgeFilter } from './purge.js';
import type { ReindexResult } from './reindex.js';
import type { SuppressionChange, SuppressionOperator } from './suppression-operator.js';
import type { Suppression, SuppressionPage } from './suppressions.js';

export type {
  AuditEntry,
  HoldInfo,
  MessageSearch,
  MessageSummary,
  OperatorDeps,
  PauseState,
  PurgeableStatus,
  PurgeFilter,
  ReindexResult,
  // Suppressions (issue 13): the admin reaches them through this module too.
  Suppression,
  SuppressionChange,
  SuppressionOperator,
  SuppressionPage,
};
export { PURGEABLE_STATUSES, RECENT_SCANNED };

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
  /** Only messages that failed (their last event) at or after this time (ms since the epoch). */
  since?: number | undefined;
}

/** Statuses that can hold bounced or expired recipients once nothing is pending. */
const FINISHED_WITH_FAILURES: ReadonlySet<MessageStatus> = new Set([
  'bounced',
  'expired',
  'partial',
]);
const PAGE = 500;
/** The failed list reads at most this many entries of each failed status set. */
const FAILED_SCANNED = 5000;

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

  /**
   * Repair: rebuild the per-status sets, counts, time and address indexes from the records
   * (a SCAN of every message, in batches; run by hand after a crash or an upgrade).
   */
  async reindex(onProgress?: (scanned: number) => void): Promise<ReindexResult> {
    const result = await this.#store.reindex(onProgress);
    await this.audit(
      'reindex',
      '*',
      `${result.scanned} scanned, ${result.fixed} fixed, ${result.stale} stale entries dropped`,
    );
    return result;
  }

  /** A page of messages matching an operator's search, newest first. */
  async search(search: MessageSearch): Promise<{ rows: MessageSummary[]; hasMore: boolean }> {
    return searchMessages(this.#store, search);
  }

  /**
   * How many failed messages match the filter, and the newest `limit` of them, from the
   * bounced/expired/partial status sets: without a credential the count is a ZCOUNT of
   * each set (partial ones are counted whether or not a recipient failed); with one it is
   * counted among the newest FAILED_SCANNED of each set. Never a walk of history.
   */
  async listFailed(
    filter: RetryFilter,
    limit: number,
  ): Promise<{ matched: number; rows: MessageSummary[] }> {
    const found: string[] = [];
    let counted = 0;
    for (const status of this.#failedStatuses(filter)) {
      let kept = 0;
      // Pages about the size asked for: the common case (no credential) reads one page.
      const page = Math.min(PAGE, Math.max(limit, 25));
      for (let offset = 0; offset < FAILED_SCANNED; offset += page) {
        const ids = await this.#store.indexIds({ status }, offset, page, filter.since ?? 0);
        const checks = await Promise.all(ids.map((id) => this.#isRetryable(id, filter)));
        ids.forEach((id, i) => {
          if (!checks[i]) return;
          counted++;
          if (kept++ < limit) found.push(id);
        });
        if (ids.length < page || (filter.credential === undefined && kept >= limit)) break;
      }
    }
    const matched =
      filter.credential === undefined
        ? (
            await Promise.all(
              this.#failedStatuses(filter).map((status) =>
                this.#store.statusCount(status, filter.since ?? 0),
              ),
            )
          ).reduce((sum, n) => sum + n, 0)
        : counted;
    const stored = await Promise.all(found.map((id) => this.#store.get(id)));
    const rows = stored
      .flatMap((message) => (message ? [summarize(message)] : []))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
    return { matched, rows };
  }

  /**
   * Retry one message: its bounced/expired recipients go back to queued with a `retried`
   * event and a fresh lifetime, and it gets a new job. Suppressed recipients go back too:
   * the worker checks the suppression list again, so only addresses removed since are sent
   * to. (retryAllFailed picks messages with bounced/expired recipients only.) A message left with queued
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

  #failedStatuses(filter: RetryFilter): string[] {
    if (filter.status !== undefined) {
      return FINISHED_WITH_FAILURES.has(filter.status as MessageStatus) ? [filter.status] : [];
    }
    return [...FINISHED_WITH_FAILURES];
  }

  /**
   * Every failed message matching the filter, from the failed status sets only (ZSCAN in
   * pages: entries that leave a set meanwhile, e.g. retried, do not disturb the walk).
   */
  async #findFailed(filter: RetryFilter): Promise<string[]> {
    const found: string[] = [];
    for (const status of this.#failedStatuses(filter)) {
      let cursor = '0';
      do {
        const [next, flat] = await this.#store.scanStatus(status, cursor, PAGE);
        cursor = next;
        const ids: string[] = [];
        for (let i = 0; i < flat.length; i += 2) {
          if (Number(flat[i + 1]) >= (filter.since ?? 0)) ids.push(flat[i] as string);
        }
        const checks = await Promise.all(ids.map((id) => this.#isRetryable(id, filter)));
        ids.forEach((id, i) => {
          if (checks[i]) found.push(id);
        });
      } while (cursor !== '0');
    }
    return [...new Set(found)];
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
