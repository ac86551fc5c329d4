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
   * for delivery (queued or deferred). Walks the index oldest first in pipelined pages.
   */
  async statusSummary(
    pageSize = 1000,
  ): Promise<{ byStatus: Record<string, number>; oldestPendingCreatedAtMs: number | null }> {
    const byStatus: Record<string, number> = {};
    let oldestPendingCreatedAtMs: number | null = null;
    for (let offset = 0; ; offset += pageSize) {
      const page = await this.redis.zrange(
        this.keys.messageIndex(),
        String(offset),
        String(offset + pageSize - 1),
        'WITHSCORES',
      );
      if (page.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (let i = 0; i < page.length; i += 2) {
        pipeline.hget(this.keys.message(page[i] as string), 'status');
      }
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([, status], index) => {
        if (typeof status !== 'string') return;
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (oldestPendingCreatedAtMs === null && (status === 'queued' || status === 'deferred')) {
          oldestPendingCreatedAtMs = Number(page[index * 2 + 1]);
        }
      });
      if (page.length < pageSize * 2) break;
    }
    return { byStatus, oldestPendingCreatedAtMs };
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
