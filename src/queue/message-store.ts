import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../errors.js';
import type {
  EventType,
  MessageEvent,
  MessageStatus,
  MessageView,
  RecipientState,
  RecipientStatus,
  Submission,
} from '../message/types.js';
import type { Keys } from '../redis/keys.js';
import { MARK_RETRIED, RECORD_OUTCOME, STAGE_MESSAGE } from './scripts.js';

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * Bodies above this are written ahead of the staging step (uploadBody) in pieces this
 * size. ioredis copies every argument of a command into one buffer before writing it, so
 * a body sent as one argument is in memory twice; in pieces, only UPLOAD_WINDOW pieces
 * are copied at a time.
 */
export const UPLOAD_PIECE_BYTES = 1024 * 1024;
/** Pieces in flight at once: enough to keep the socket busy, few enough to stay small. */
const UPLOAD_WINDOW = 4;
/** An upload that was never staged (crash, refused message) is gone after this. */
export const UPLOAD_TTL_SECONDS = 60 * 60;

/** A body written ahead to its own key (uploadBody); the stage step takes it over. */
export interface BodyUpload {
  key: string;
  length: number;
}

/** One recipient's result of a delivery attempt (or an operator/expiry decision). */
export interface RecipientUpdate {
  address: string;
  status: RecipientStatus;
  detail: string;
}

export interface StoredMessage {
  id: string;
  credential: string;
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
  body: Buffer | null;
}

export function hashIdempotencyKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32);
}

/** The stage script's reply → which message owns the submission (see STAGE_MESSAGE). */
export function stagedOwner(id: string, reply: unknown): { id: string; existing: boolean } {
  if (typeof reply !== 'string' || reply === '') throw new Error('stage script gave no owner');
  return { id: reply, existing: reply !== id };
}

function event(type: EventType, detail: string, at = new Date()): string {
  return JSON.stringify({ type, at: at.toISOString(), detail } satisfies MessageEvent);
}

function toStored(hash: Record<string, string>): StoredMessage | undefined {
  if (!hash.id) return undefined;
  return {
    id: hash.id,
    credential: hash.credential ?? '',
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

/**
 * Message records, bodies and event timelines in our own keys (BullMQ job data holds only
 * the id). The only writer of these keys.
 */
export class MessageStore {
  readonly #redis: Redis;
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
    redis.defineCommand('pwStageMessage', { numberOfKeys: 7, lua: STAGE_MESSAGE });
    redis.defineCommand('pwRecordOutcome', { numberOfKeys: 3, lua: RECORD_OUTCOME });
    redis.defineCommand('pwMarkRetried', { numberOfKeys: 3, lua: MARK_RETRIED });
  }

  /**
   * Write a new message (body, record, recipients, `queued` event) atomically. With an
   * idempotency key already used by the credential, nothing is written and the first
   * message's id is returned with `existing: true`.
   */
  async stage(
    id: string,
    credential: string,
    submission: Submission,
    createdAtMs: number,
  ): Promise<{ id: string; existing: boolean }> {
    const upload = await this.uploadBody(id, submission.raw);
    try {
      const args = this.#stageArgs(id, credential, submission, createdAtMs, upload);
      const owner = await (this.#redis as unknown as StoreCommands).pwStageMessage(...args);
      return stagedOwner(id, owner);
    } catch (error) {
      if (upload) this.discardUpload(upload);
      throw error;
    }
  }

  /**
   * Write a large body (over UPLOAD_PIECE_BYTES) ahead of the staging step, to a key of
   * its own with a TTL: in pieces, so it is never copied whole (see UPLOAD_PIECE_BYTES).
   * Nobody reads that key; the stage step renames it into the message's body key, in the
   * same atomic step as the record and the job, so a message is still visible whole or not
   * at all. Undefined for a small body (it goes inside the stage step). Rejects if any
   * piece failed; the key is then deleted, best effort (its TTL covers the rest).
   */
  async uploadBody(id: string, raw: Buffer): Promise<BodyUpload | undefined> {
    if (raw.length <= UPLOAD_PIECE_BYTES) return undefined;
    const redis = this.#redis;
    if (redis.status !== 'ready') {
      throw new QueueUnavailableError(`Redis connection is ${redis.status}`);
    }
    const upload: BodyUpload = {
      key: `${this.#keys.body(id)}:upload:${randomBytes(8).toString('hex')}`,
      length: raw.length,
    };
    const piece = (offset: number) =>
      raw.subarray(offset, Math.min(raw.length, offset + UPLOAD_PIECE_BYTES));
    try {
      // SET sets the TTL and APPEND keeps it. The APPENDs wait for it: one sent after a
      // failed SET would create the key without a TTL.
      await redis.set(upload.key, piece(0), 'EX', UPLOAD_TTL_SECONDS);
      // Redis answers in order: once the piece UPLOAD_WINDOW back is answered, so are all
      // before it, and ioredis has let go of their copies.
      const sent: Promise<number>[] = [];
      for (let offset = UPLOAD_PIECE_BYTES; offset < raw.length; offset += UPLOAD_PIECE_BYTES) {
        if (sent.length >= UPLOAD_WINDOW) await sent[sent.length - UPLOAD_WINDOW];
        const reply = redis.append(upload.key, piece(offset));
        reply.catch(() => {}); // Seen by the await above or by Promise.all below.
        sent.push(reply);
      }
      const lengths = await Promise.all(sent);
      if (lengths.at(-1) !== raw.length) {
        throw new QueueUnavailableError('body upload did not arrive whole');
      }
      return upload;
    } catch (error) {
      this.discardUpload(upload);
      throw error;
    }
  }

  /** An upload that will not be staged: delete it now, best effort (the TTL is the backstop). */
  discardUpload(upload: BodyUpload): void {
    this.#redis.del(upload.key).catch(() => {});
  }

  /**
   * The same write sent on `connection` (this store's, inside MailQueue.enqueueWith's
   * MULTI), synchronously; its result comes back through EXEC: read it with stagedOwner.
   */
  sendStage(
    connection: Redis,
    id: string,
    credential: string,
    submission: Submission,
    createdAtMs: number,
    upload?: BodyUpload,
  ): Promise<unknown> {
    if (connection !== this.#redis) throw new Error('staging must use the store connection');
    const args = this.#stageArgs(id, credential, submission, createdAtMs, upload);
    return (connection as unknown as StoreCommands).pwStageMessage(...args);
  }

  #stageArgs(
    id: string,
    credential: string,
    submission: Submission,
    createdAtMs: number,
    upload: BodyUpload | undefined,
  ): (string | Buffer)[] {
    if (upload && upload.length !== submission.raw.length) {
      throw new Error("the upload is not this submission's body");
    }
    const keys = this.#keys;
    const idemKey = submission.idempotencyKey
      ? keys.idempotency(credential, hashIdempotencyKey(submission.idempotencyKey))
      : keys.message(id);
    const fields: Record<string, string> = {
      id,
      credential,
      protocol: submission.protocol,
      envelopeFrom: submission.envelope.from,
      from: submission.fromHeader,
      subject: submission.subject,
      messageId: submission.messageIdHeader,
      createdAt: String(createdAtMs),
      status: 'queued',
      attempts: '0',
      size: String(submission.raw.length),
      recipients: JSON.stringify(submission.envelope.to),
    };
    const fieldArgs = Object.entries(fields).flat();
    const recipientArgs = submission.envelope.to.flatMap((address) => [
      address,
      JSON.stringify({ status: 'queued', detail: '' }),
    ]);
    return [
      keys.message(id),
      keys.recipients(id),
      keys.events(id),
      keys.body(id),
      keys.messageIndex(),
      idemKey,
      upload ? upload.key : keys.body(id),
      id,
      String(createdAtMs),
      submission.idempotencyKey ? String(IDEMPOTENCY_TTL_SECONDS) : '0',
      upload ? '' : submission.raw,
      event('queued', `accepted over ${submission.protocol}`, new Date(createdAtMs)),
      String(fieldArgs.length / 2),
      ...fieldArgs,
      ...recipientArgs,
    ];
  }

  async get(id: string): Promise<StoredMessage | undefined> {
    return toStored(await this.#redis.hgetall(this.#keys.message(id)));
  }

  async recipients(id: string): Promise<RecipientState[]> {
    const [stored, hash] = await Promise.all([
      this.get(id),
      this.#redis.hgetall(this.#keys.recipients(id)),
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
    const list = await this.#redis.lrange(this.#keys.events(id), 0, -1);
    return list.map((entry) => JSON.parse(entry) as MessageEvent);
  }

  /** The API/CLI/admin view of a message. */
  async view(id: string): Promise<(MessageView & { credential: string }) | undefined> {
    const stored = await this.get(id);
    if (!stored) return undefined;
    const [recipients, events] = await Promise.all([this.recipients(id), this.events(id)]);
    return {
      id: stored.id,
      credential: stored.credential,
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
    const [hash, rcpts, body] = await Promise.all([
      this.#redis.hgetall(this.#keys.message(id)),
      this.#redis.hgetall(this.#keys.recipients(id)),
      this.#redis.getBuffer(this.#keys.body(id)),
    ]);
    const message = toStored(hash);
    if (!message) return undefined;
    const pending = message.recipientOrder.filter((address) => {
      const state = rcpts[address];
      if (!state) return false;
      const status = (JSON.parse(state) as { status: RecipientStatus }).status;
      return status === 'queued' || status === 'deferred';
    });
    return { message, pending, body };
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
    const keys = this.#keys;
    const updateArgs = updates.flatMap((update) => [
      update.address,
      JSON.stringify({ status: update.status, detail: update.detail }),
    ]);
    const eventArgs = events.map((entry) => event(entry.type, entry.detail, at));
    const status = (await (this.#redis as unknown as StoreCommands).pwRecordOutcome(
      keys.message(id),
      keys.recipients(id),
      keys.events(id),
      countAttempt ? '1' : '0',
      String(updates.length),
      ...updateArgs,
      ...eventArgs,
    )) as MessageStatus | null;
    return status ?? undefined;
  }

  /** The body is needed no more (every recipient delivered): free it. */
  async deleteBody(id: string): Promise<void> {
    await this.#redis.del(this.#keys.body(id));
  }

  async hasBody(id: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.body(id))) === 1;
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
    const keys = this.#keys;
    const result = Number(
      await (this.#redis as unknown as StoreCommands).pwMarkRetried(
        keys.message(id),
        keys.recipients(id),
        keys.events(id),
        String(at.getTime()),
        event('retried', detail, at),
      ),
    );
    if (result === -1) return { refused: 'not_found' };
    if (result === -2) return { refused: 'in_delivery' };
    return { reset: result };
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
      const page = await this.#redis.zrange(
        this.#keys.messageIndex(),
        String(offset),
        String(offset + pageSize - 1),
        'WITHSCORES',
      );
      if (page.length === 0) break;
      const pipeline = this.#redis.pipeline();
      for (let i = 0; i < page.length; i += 2) {
        pipeline.hget(this.#keys.message(page[i] as string), 'status');
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
    return this.#redis.zrevrangebyscore(
      this.#keys.messageIndex(),
      toMs,
      fromMs,
      'LIMIT',
      offset,
      count,
    );
  }
}

interface StoreCommands {
  pwStageMessage(...args: (string | Buffer)[]): Promise<unknown>;
  pwRecordOutcome(...args: (string | Buffer)[]): Promise<unknown>;
  pwMarkRetried(...args: (string | Buffer)[]): Promise<unknown>;
}
