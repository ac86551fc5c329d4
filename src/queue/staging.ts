import { isAscii } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../errors.js';
import { messageSize } from '../message/body-source.js';
import { newMessageId } from '../message/ids.js';
import type { Submission } from '../message/types.js';
import type { Keys } from '../redis/keys.js';
import { BodySpool, SpoolWindow } from './body-spool.js';
import type { MailQueue } from './mail-queue.js';
import { eventEntry } from './record-layout.js';
import { defineScripts, runScript, STAGE_MESSAGE } from './scripts.js';
import { webhookOutboxKeys } from './webhook-outbox.js';

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * Bodies above this are written ahead of the staging step (uploadBody) in pieces this
 * size. ioredis copies every argument of a command into one buffer before writing it, so
 * a body sent as one argument is in memory twice; in pieces, only the pieces in flight
 * (SpoolWindow) are copied at a time.
 */
export const UPLOAD_PIECE_BYTES = 1024 * 1024;
/** An upload that was never staged (crash, refused message) is gone after this. */
export const UPLOAD_TTL_SECONDS = 60 * 60;

/** A body written ahead to its own key (uploadBody); the stage step takes it over. */
export interface BodyUpload {
  key: string;
  length: number;
}

/**
 * The credential a message belongs to: its immutable id (ownership, Idempotency-Keys) and
 * its name (what admin and CLI show).
 */
export interface MessageOwner {
  id: string;
  name: string;
}

/** Which message owns a staged submission. */
export interface Staged {
  /** The new message, or the first one for a repeated Idempotency-Key. */
  id: string;
  /** True for a repeated Idempotency-Key: nothing new was written or queued. */
  duplicate: boolean;
  /** Its credential is on hold: kept durably as `held`, not delivered until released. */
  held: boolean;
  /** This message took the credential past its --hold-above: it is on hold from now. */
  heldNow?: boolean;
}

/**
 * Thrown by stage() when a credential changed since the submitter's was read
 * (StageOptions.credentialsVersion): nothing was staged; read it again and decide anew.
 */
export class CredentialsChanged extends Error {
  constructor() {
    super('the credentials changed since this credential was read');
    this.name = 'CredentialsChanged';
  }
}

/**
 * Thrown by stage() when the client's address is banned (StageOptions.banKey): nothing
 * was staged.
 */
export class ClientBanned extends Error {
  constructor() {
    super('the client address is banned');
    this.name = 'ClientBanned';
  }
}

/** What the stage script decided (STAGE_MESSAGE's disposition). */
export type Disposition = 'queued' | 'held' | 'duplicate' | 'refused' | 'stale' | 'banned';

interface Committed {
  owner: string;
  disposition: Disposition;
  heldNow: boolean;
}

export interface StageOptions {
  /** Also wait until the write is on disk (WAITAOF; see DurabilityMonitor). */
  waitAof?: boolean;
  /** Also wait until this many replicas have the write (WAIT; POSTWARDEN_DURABILITY=replicated). */
  waitReplicas?: number;
  /** The credential's own --hold-above (per trailing hour; 0 = never); else the default. */
  holdAbove?: number | undefined;
  /**
   * The credentials version the submitter's credential was read at
   * (CredentialStore.readAt): nothing is staged if any credential changed since.
   */
  credentialsVersion?: string | undefined;
  /**
   * The client's ban key (AbuseGuard.banKeyOf): nothing is staged while it exists, checked
   * in the same step as the write (the HTTP fast path's ban check: intake/http/auth.ts).
   */
  banKey?: string | undefined;
}

/** Containment limits (CONTRACT §Configuration: POSTWARDEN_HOLD_ABOVE, POSTWARDEN_HOLD_MAX). */
export interface HoldLimits {
  holdAbove: number;
  holdMax: number;
}

const DEFAULT_HOLD_LIMITS: HoldLimits = { holdAbove: 1000, holdMax: 10_000 };

/**
 * The body as the stage script's argument. ioredis builds a command with any Buffer
 * argument by copying every argument into a buffer of its own, piece by piece; with
 * strings only it is one string, encoded once as it is written (issue 14: a sixth of the
 * stage call's CPU). Bytes that are all ASCII — what MIME composed at the door always is,
 * and most SMTP mail — read the same as a latin1 string, which ioredis writes as UTF-8:
 * the very same bytes. Anything else stays a Buffer.
 */
function bodyArgument(raw: Buffer): string | Buffer {
  return isAscii(raw) ? raw.toString('latin1') : raw;
}

/** A new recipient's state, as every recipient of a new message starts. */
const QUEUED_STATE = JSON.stringify({ status: 'queued', detail: '' });

function fixedStageKeys(keys: Keys, queue: MailQueue) {
  return {
    messageIndex: keys.messageIndex(),
    heldAll: keys.heldAll(),
    heldCredentials: keys.heldCredentials(),
    holdsTotal: keys.holdsTotal(),
    webhookOutbox: webhookOutboxKeys(keys),
    statusCounts: keys.statusCounts(),
    statusIndexPrefix: keys.statusIndexPrefix(),
    addressIndexPrefix: keys.addressIndexPrefix(),
    queue: queue.queueKeys(),
    credentialsVersion: keys.credentialsVersion(),
  };
}

function hashIdempotencyKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32);
}

/**
 * The door's write (ARCHITECTURE §1; ZoneMTA's MailDrop.add): a new message's record, body
 * and delivery job, all or nothing. The only writer of a new message's keys.
 */
export class Staging {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #queue: MailQueue;
  readonly #limits: HoldLimits;
  /** Bulk body bytes in flight on the connection, every upload and spool together. */
  readonly #window = new SpoolWindow();
  /** The stage script's keys that are the same for every message, named once. */
  readonly #fixedKeys: ReturnType<typeof fixedStageKeys>;

  /** `queue` names the delivery job's keys; the stage script writes that job on `redis`. */
  constructor(redis: Redis, keys: Keys, queue: MailQueue, limits = DEFAULT_HOLD_LIMITS) {
    this.#redis = redis;
    this.#keys = keys;
    this.#queue = queue;
    this.#limits = limits;
    this.#fixedKeys = fixedStageKeys(keys, queue);
    defineScripts(redis, STAGE_MESSAGE);
  }

  /**
   * Stage `submission` from `credential` under a new id: a large body goes ahead in pieces
   * (uploadBody), then record, body and delivery job are written by one script, one round
   * trip (commit). Resolves once that is confirmed; rejects (QueueUnavailableError when
   * Redis fails) with nothing of the message left but an upload its TTL removes.
   *
   * With an Idempotency-Key the credential already used, nothing is written (no job
   * either) and the first message's id comes back, `duplicate`; nothing either for a
   * refusal (`undefined`: the credential is on hold with HOLD_MAX held). A held message
   * has its job: the worker finds nothing pending and ends it, and release gives it a new
   * one.
   */
  async stage(
    credential: MessageOwner,
    submission: Submission,
    options: StageOptions = {},
  ): Promise<Staged | undefined> {
    const id = newMessageId();
    // A body spooled while it arrived (SMTP) is already there; else a large one goes now.
    const upload = submission.spooled ?? (await this.uploadBody(id, submission.raw));
    let committed: Committed;
    try {
      committed = await this.commit(id, credential, submission, upload, options);
    } catch (error) {
      // Sent after the script on the same connection: if that did write, there is nothing left.
      if (upload) this.#discardUpload(upload);
      throw error;
    }
    const { owner, disposition } = committed;
    if (disposition === 'queued') return { id, duplicate: false, held: false };
    if (disposition === 'held')
      return { id, duplicate: false, held: true, heldNow: committed.heldNow };
    if (disposition === 'stale') {
      // Nothing was written. A body spooled as it arrived is kept for the caller's next
      // try; an upload made here is not (the next try makes its own).
      if (upload && !submission.spooled) this.#discardUpload(upload);
      throw new CredentialsChanged();
    }
    if (disposition === 'banned') {
      if (upload) this.#discardUpload(upload);
      throw new ClientBanned();
    }
    return disposition === 'refused' ? undefined : { id: owner, duplicate: true, held: false };
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
    // The same writer as an SMTP body spooled on arrival: pieces are views of `raw` (no
    // copies), sent within the process's window so other commands are not starved.
    const spool = new BodySpool(
      redis,
      `${this.#keys.body(id)}:upload:${randomBytes(8).toString('hex')}`,
      UPLOAD_TTL_SECONDS,
      this.#window,
    );
    for (let offset = 0; offset < raw.length; offset += UPLOAD_PIECE_BYTES) {
      spool.write(raw.subarray(offset, Math.min(raw.length, offset + UPLOAD_PIECE_BYTES)));
    }
    try {
      return await spool.finish();
    } catch (error) {
      spool.discard();
      throw error;
    }
  }

  /**
   * The stage script (with the body, or taking over `upload`), which also writes the
   * delivery job (MailQueue.jobKey, queueKeys), then the durability wait (MailQueue.writeDurably).
   * Resolves with the id that owns the submission — `id`, or the first message's for a
   * repeated Idempotency-Key — and what the script decided. Does not discard `upload` on
   * failure; stage does.
   */
  async commit(
    id: string,
    credential: MessageOwner,
    submission: Submission,
    upload: BodyUpload | undefined,
    options: StageOptions = {},
  ): Promise<Committed> {
    const holdAbove = options.holdAbove ?? this.#limits.holdAbove;
    const [keys, args] = this.#stageArgs(id, credential, submission, Date.now(), upload, {
      holdAbove,
      credentialsVersion: options.credentialsVersion ?? '',
      banKey: options.banKey,
    });
    const reply = await this.#queue.writeDurably(
      () => runScript(this.#redis, STAGE_MESSAGE, keys, args),
      options,
    );
    const [owner, disposition, heldNow] = Array.isArray(reply) ? reply : [];
    if (typeof owner !== 'string' || typeof disposition !== 'string') {
      throw new Error('stage script gave no owner');
    }
    return { owner, disposition: disposition as Disposition, heldNow: heldNow === '1' };
  }

  /**
   * A spool for one large body arriving now (BodySpool), under a key of its own with the
   * uploads' TTL; stage() takes it over through `submission.spooled`.
   */
  openSpool(): BodySpool {
    const key = this.#keys.bodySpool(randomBytes(12).toString('hex'));
    return new BodySpool(this.#redis, key, UPLOAD_TTL_SECONDS, this.#window);
  }

  /** An upload that will not be staged: delete it now, best effort (the TTL is the backstop). */
  #discardUpload(upload: BodyUpload): void {
    this.#redis.del(upload.key).catch(() => {});
  }

  /** STAGE_MESSAGE's KEYS and ARGV (see its header). */
  #stageArgs(
    id: string,
    credential: MessageOwner,
    submission: Submission,
    createdAtMs: number,
    upload: BodyUpload | undefined,
    {
      holdAbove,
      credentialsVersion,
      banKey,
    }: { holdAbove: number; credentialsVersion: string; banKey: string | undefined },
  ): [string[], (string | Buffer)[]] {
    if (upload && upload.length !== messageSize(submission)) {
      throw new Error("the upload is not this submission's body");
    }
    const keys = this.#keys;
    const idemHash = submission.idempotencyKey
      ? hashIdempotencyKey(submission.idempotencyKey)
      : undefined;
    const idemKey = idemHash ? keys.idempotency(credential.id, idemHash) : keys.message(id);
    const record = keys.message(id);
    const body = keys.body(id);
    // Flat field/value pairs, as HSET takes them (built directly: this runs per message).
    const fieldArgs = [
      'id',
      id,
      'credential',
      credential.name,
      'credentialId',
      credential.id,
      'protocol',
      submission.protocol,
      'envelopeFrom',
      submission.envelope.from,
      'from',
      submission.fromHeader,
      'subject',
      submission.subject,
      'messageId',
      submission.messageIdHeader,
      'createdAt',
      String(createdAtMs),
      'status',
      'queued',
      'attempts',
      '0',
      'size',
      String(messageSize(submission)),
    ];
    // Retention deletes the Idempotency-Key with the message while it still points to it.
    if (idemHash) fieldArgs.push('idem', idemHash);
    // The `r:` fields keep the envelope order only while the record is listpack-encoded;
    // with more than one recipient the order is written down (record-layout.ts).
    if (submission.envelope.to.length > 1) {
      fieldArgs.push('recipients', JSON.stringify(submission.envelope.to));
    }
    const recipientArgs: string[] = [];
    for (const address of submission.envelope.to) recipientArgs.push(address, QUEUED_STATE);
    const fixed = this.#fixedKeys;
    const scriptKeys = [
      record,
      body,
      fixed.messageIndex,
      idemKey,
      upload ? upload.key : body,
      // Holds go by name: `postwarden hold NAME`, and a name re-created after a leak stays
      // held until an operator releases it.
      keys.hold(credential.name),
      keys.heldMessages(credential.name),
      fixed.heldAll,
      keys.holdVolume(credential.name),
      fixed.heldCredentials,
      fixed.holdsTotal,
      ...fixed.webhookOutbox,
      fixed.statusCounts,
      fixed.statusIndexPrefix,
      fixed.addressIndexPrefix,
      this.#queue.jobKey(id),
      ...fixed.queue,
      fixed.credentialsVersion,
      banKey ?? record,
    ];
    const at = new Date(createdAtMs);
    return [
      scriptKeys,
      [
        id,
        String(createdAtMs),
        submission.idempotencyKey ? String(IDEMPOTENCY_TTL_SECONDS) : '0',
        upload ? '' : bodyArgument(submission.raw),
        eventEntry('queued', `accepted over ${submission.protocol}`, at),
        String(fieldArgs.length / 2),
        String(Math.floor(createdAtMs / 60_000)),
        String(holdAbove),
        String(this.#limits.holdMax),
        eventEntry('held', 'credential on hold', at),
        credential.name,
        `more than ${holdAbove} messages in the trailing hour`,
        at.toISOString(),
        ...this.#queue.jobArgs(id),
        credentialsVersion,
        banKey ? '1' : '0',
        ...fieldArgs,
        ...recipientArgs,
      ],
    ];
  }
}
