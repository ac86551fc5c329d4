import type { Redis } from 'ioredis';
import type { EventType, MessageStatus, RecipientStatus } from '../message/types.js';
import type { Keys } from '../redis/keys.js';
import { MessageRecords } from './message-records.js';
import { eventEntry } from './record-layout.js';
import { countRecordsByStatus, type ReindexResult, reindexMessages } from './reindex.js';
import { defineScripts, MARK_RETRIED, RECORD_OUTCOME, runScript } from './scripts.js';
import { webhookOutboxKeys } from './webhook-outbox.js';

export type { DeliveryLoad, StoredMessage } from './message-records.js';

/** One recipient's result of a delivery attempt (or an operator/expiry decision). */
export interface RecipientUpdate {
  address: string;
  status: RecipientStatus;
  detail: string;
}

/**
 * Message records, bodies and event timelines in our own keys (BullMQ job data holds only
 * the id): the reads of MessageRecords plus the state changes after staging (delivery
 * outcomes, operator retry, freeing a delivered body). Staging writes the new message.
 */
export class MessageStore extends MessageRecords {
  constructor(redis: Redis, keys: Keys) {
    super(redis, keys);
    defineScripts(redis, RECORD_OUTCOME, MARK_RETRIED);
  }

  /**
   * Record per-recipient results and events in one atomic step — the delivered mark.
   * Returns the new message status (undefined if the record is gone).
   */
  async recordOutcome(
    id: string,
    updates: RecipientUpdate[],
    events: { type: EventType; detail: string }[],
    countAttempt: boolean,
    at = new Date(),
  ): Promise<MessageStatus | undefined> {
    const updateArgs = updates.flatMap((update) => [
      update.address,
      JSON.stringify({ status: update.status, detail: update.detail }),
    ]);
    const eventArgs = events.map((entry) => eventEntry(entry.type, entry.detail, at));
    const status = (await runScript(
      this.redis,
      RECORD_OUTCOME,
      [...this.#recordKeys(id), ...webhookOutboxKeys(this.keys)],
      [countAttempt ? '1' : '0', String(updates.length), ...updateArgs, ...eventArgs],
    )) as MessageStatus | null;
    return status ?? undefined;
  }

  /** The body is needed no more (every recipient delivered): free it. */
  async deleteBody(id: string): Promise<void> {
    await this.redis.del(this.keys.body(id));
  }

  /**
   * Operator retry (atomic): bounced/expired recipients back to queued, a `retried` event,
   * and a fresh lifetime from `at`. Returns how many recipients were reset, or why not.
   */
  async markRetried(
    id: string,
    detail: string,
    at = new Date(),
  ): Promise<{ reset: number } | { refused: 'not_found' | 'in_delivery' }> {
    const result = Number(
      await runScript(this.redis, MARK_RETRIED, this.#recordKeys(id), [
        String(at.getTime()),
        eventEntry('retried', detail, at),
      ]),
    );
    if (result === -1) return { refused: 'not_found' };
    if (result === -2) return { refused: 'in_delivery' };
    return { reset: result };
  }

  /** Rebuild the indexes and counts from the records (operator repair; walks everything). */
  async reindex(onProgress?: (scanned: number) => void): Promise<ReindexResult> {
    return reindexMessages(this.redis, this.keys, onProgress);
  }

  /** Counts by status read from every record (what the counts must equal; walks everything). */
  async countRecords(): Promise<Record<string, number>> {
    return countRecordsByStatus(this.redis, this.keys);
  }

  /** KEYS of both scripts: record, recipients, events, status counts, status-index prefix. */
  #recordKeys(id: string): string[] {
    const keys = this.keys;
    return [
      keys.message(id),
      keys.recipients(id),
      keys.events(id),
      keys.statusCounts(),
      keys.statusIndexPrefix(),
    ];
  }
}
