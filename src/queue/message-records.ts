import type { Redis } from 'ioredis';
import type { BodySource } from '../message/body-source.js';
import type {
  EventType,
  MessageEvent,
  MessageStatus,
  MessageView,
  RecipientState,
  RecipientStatus,
} from '../message/types.js';
import type { Keys } from '../redis/keys.js';
import { redisBody } from './body-reader.js';

export interface StoredMessage {
  id: string;
  /** The owning credential's name (shown by admin and CLI). */
  credential: string;
  /**
   * The owning credential's immutable id (API ownership). '' for records written before
   * ids existed: those are owned by no credential's id, so no API client sees them — a
   * name re-created since could otherwise claim them; admin and CLI still show them.
   */
  credentialId: string;
  protocol: string;
  envelopeFrom: string;
  fromHeader: string;
  subject: string;
  messageIdHeader: string;
  createdAtMs: number;
  status: MessageStatus;
  attempts: number;
  size: number;
  recipientOrder: string[];
  /** Set by an operator retry: the retry lifetime counts from here instead of createdAt. */
  retryFromMs?: number | undefined;
}

/** What a delivery needs: the record, the recipients still pending, and the bytes. */
export interface DeliveryLoad {
  message: StoredMessage;
  pending: string[];
  /** Streamed from Redis by range (body-reader.ts), never read in one reply; null = gone. */
  body: BodySource | null;
}

/** One entry of a message's event list, as the writers (Staging, MessageStore) store it. */
export function eventEntry(type: EventType, detail: string, at = new Date()): string {
  return JSON.stringify({ type, at: at.toISOString(), detail } satisfies MessageEvent);
}

function toStored(hash: Record<string, string>): StoredMessage | undefined {
  if (!hash.id) return undefined;
  return {
    id: hash.id,
    credential: hash.credential ?? '',
    credentialId: hash.credentialId ?? '',
    protocol: hash.protocol ?? '',
    envelopeFrom: hash.envelopeFrom ?? '',
    fromHeader: hash.from ?? '',
    subject: hash.subject ?? '',
    messageIdHeader: hash.messageId ?? '',
    createdAtMs: Number(hash.createdAt ?? 0),
    status: (hash.status ?? 'queued') as MessageStatus,
    attempts: Number(hash.attempts ?? 0),
    size: Number(hash.size ?? 0),
    recipientOrder: JSON.parse(hash.recipients ?? '[]') as string[],
    retryFromMs: hash.retryFrom ? Number(hash.retryFrom) : undefined,
  };
}

function isPending(state: string): boolean {
  const status = (JSON.parse(state) as { status: RecipientStatus }).status;
  return status === 'queued' || status === 'deferred';
}

/**
 * Reads and searches of message records, recipients, events and the index (written by
 * Staging and MessageStore). Nothing here writes.
 */
export class MessageRecords {
  constructor(
    protected readonly redis: Redis,
    protected readonly keys: Keys,
  ) {}

  async get(id: string): Promise<StoredMessage | undefined> {
    return toStored(await this.redis.hgetall(this.keys.message(id)));
  }

  async recipients(id: string): Promise<RecipientState[]> {
    const [stored, hash] = await Promise.all([
      this.get(id),
      this.redis.hgetall(this.keys.recipients(id)),
    ]);
    const order = stored?.recipientOrder ?? Object.keys(hash);
    return order
      .filter((address) => hash[address] !== undefined)
      .map((address) => {
        const state = JSON.parse(hash[address] as string) as {
          status: RecipientStatus;
          detail: string;
        };
        return { address, status: state.status, detail: state.detail };
      });
  }

  async events(id: string): Promise<MessageEvent[]> {
    const list = await this.redis.lrange(this.keys.events(id), 0, -1);
    return list.map((entry) => JSON.parse(entry) as MessageEvent);
  }

  /** The API/CLI/admin view of a message. */
  async view(
    id: string,
  ): Promise<(MessageView & { credential: string; credentialId: string }) | undefined> {
    const stored = await this.get(id);
    if (!stored) return undefined;
    const [recipients, events] = await Promise.all([this.recipients(id), this.events(id)]);
    return {
      id: stored.id,
      credential: stored.credential,
      credentialId: stored.credentialId,
      status: stored.status,
      from: stored.fromHeader,
      subject: stored.subject,
      createdAt: new Date(stored.createdAtMs).toISOString(),
      attempts: stored.attempts,
      recipients,
      events,
    };
  }

  async loadForDelivery(id: string): Promise<DeliveryLoad | undefined> {
    const [hash, rcpts, bodySize] = await Promise.all([
      this.redis.hgetall(this.keys.message(id)),
      this.redis.hgetall(this.keys.recipients(id)),
      this.redis.strlen(this.keys.body(id)),
    ]);
    const body = bodySize > 0 ? redisBody(this.redis, this.keys.body(id), bodySize) : null;
    const message = toStored(hash);
    if (!message) return undefined;
    const pending = message.recipientOrder.filter((address) => {
      const state = rcpts[address];
      return state !== undefined && isPending(state);
    });
    return { message, pending, body };
  }

  async hasBody(id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.body(id))) === 1;
  }

  /**
   * Message counts by status and the creation time of the oldest message still waiting
   * for delivery (queued or deferred): the counts hash and the first entry of two
   * per-status sets, maintained by every status change — the same cost whatever the history.
   */
  async statusSummary(): Promise<{
    byStatus: Record<string, number>;
    oldestPendingCreatedAtMs: number | null;
  }> {
    const [counts, queued, deferred] = await Promise.all([
      this.redis.hgetall(this.keys.statusCounts()),
      this.redis.zrange(this.keys.statusIndex('queued'), '0', '0', 'WITHSCORES'),
      this.redis.zrange(this.keys.statusIndex('deferred'), '0', '0', 'WITHSCORES'),
    ]);
    const byStatus: Record<string, number> = {};
    for (const [status, n] of Object.entries(counts)) {
      if (Number(n) > 0) byStatus[status] = Number(n);
    }
    const oldest = [queued[1], deferred[1]].filter((score) => score !== undefined).map(Number);
    return { byStatus, oldestPendingCreatedAtMs: oldest.length ? Math.min(...oldest) : null };
  }

  /**
   * Newest first (by index score): ids of one index — a status set or an address index —
   * scored between `fromMs` and `toMs`.
   */
  async indexIds(
    index: { status: string } | { address: string },
    offset: number,
    count: number,
    fromMs = 0,
    toMs = Number.MAX_SAFE_INTEGER,
  ): Promise<string[]> {
    const key =
      'status' in index
        ? this.keys.statusIndex(index.status)
        : this.keys.addressIndex(index.address);
    return this.redis.zrevrangebyscore(key, toMs, fromMs, 'LIMIT', offset, count);
  }

  /** One ZSCAN page of a status set: [next cursor, flat id/score pairs]. */
  async scanStatus(status: string, cursor: string, count: number): Promise<[string, string[]]> {
    return this.redis.zscan(this.keys.statusIndex(status), cursor, 'COUNT', count);
  }

  /** How many entries of a status set are scored at or after `fromMs` (O(log n)). */
  async statusCount(status: string, fromMs = 0): Promise<number> {
    return this.redis.zcount(this.keys.statusIndex(status), fromMs, '+inf');
  }

  /** Newest first: ids with createdAt between `fromMs` and `toMs`. */
  async listIds(
    offset: number,
    count: number,
    fromMs = 0,
    toMs = Number.MAX_SAFE_INTEGER,
  ): Promise<string[]> {
    return this.redis.zrevrangebyscore(
      this.keys.messageIndex(),
      toMs,
      fromMs,
      'LIMIT',
      offset,
      count,
    );
  }
}
