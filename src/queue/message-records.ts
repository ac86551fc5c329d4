import type { Redis } from 'ioredis';
import type { BodySource } from '../message/body-source.js';
import type {
  MessageEvent,
  MessageStatus,
  MessageView,
  RecipientState,
  RecipientStatus,
} from '../message/types.js';
import type { Keys } from '../redis/keys.js';
import { redisBody } from './body-reader.js';
import {
  eventEntriesOf,
  isLegacyLayout,
  parseEvents,
  recipientOrderOf,
  recipientStatesOf,
} from './record-layout.js';

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
    recipientOrder: recipientOrderOf(hash),
    retryFromMs: hash.retryFrom ? Number(hash.retryFrom) : undefined,
  };
}

/** Recipients in envelope order (the order of a record's own list), with their states. */
function recipientsInOrder(
  stored: StoredMessage | undefined,
  states: Record<string, string>,
): RecipientState[] {
  const order = stored?.recipientOrder ?? Object.keys(states);
  return order
    .filter((address) => states[address] !== undefined)
    .map((address) => {
      const state = JSON.parse(states[address] as string) as {
        status: RecipientStatus;
        detail: string;
      };
      return { address, status: state.status, detail: state.detail };
    });
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

  /**
   * A record with its recipients' states and its events (record-layout.ts): one HGETALL,
   * plus the two old keys of a record written before that layout and not changed since.
   */
  async #whole(
    id: string,
  ): Promise<{ hash: Record<string, string>; states: Record<string, string>; events: string[] }> {
    const hash = await this.redis.hgetall(this.keys.message(id));
    if (!isLegacyLayout(hash)) {
      return { hash, states: recipientStatesOf(hash), events: eventEntriesOf(hash) };
    }
    const [states, events] = await Promise.all([
      this.redis.hgetall(this.keys.recipients(id)),
      this.redis.lrange(this.keys.events(id), 0, -1),
    ]);
    return { hash, states, events };
  }

  async recipients(id: string): Promise<RecipientState[]> {
    const { hash, states } = await this.#whole(id);
    return recipientsInOrder(toStored(hash), states);
  }

  async events(id: string): Promise<MessageEvent[]> {
    return parseEvents((await this.#whole(id)).events);
  }

  /** The API/CLI/admin view of a message. */
  async view(
    id: string,
  ): Promise<(MessageView & { credential: string; credentialId: string }) | undefined> {
    const whole = await this.#whole(id);
    const stored = toStored(whole.hash);
    if (!stored) return undefined;
    const recipients = recipientsInOrder(stored, whole.states);
    const events = parseEvents(whole.events);
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
    const [{ hash, states: rcpts }, bodySize] = await Promise.all([
      this.#whole(id),
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
