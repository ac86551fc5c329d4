import type { Redis } from 'ioredis';
import type { HoldReason } from '../observability/metrics.js';
import type { Keys } from '../redis/keys.js';
import {
  CHECK_BEFORE_SEND,
  CLEAR_HOLD,
  HOLD_CREDENTIAL,
  PURGE_MESSAGE,
  RELEASE_MESSAGE,
} from './hold-scripts.js';
import type { MailQueue } from './mail-queue.js';
import { eventEntry } from './record-layout.js';
import { defineScripts, runScript } from './scripts.js';
import { webhookOutboxKeys } from './webhook-outbox.js';

export type { HoldReason };

export interface HoldInfo {
  credential: string;
  reason: HoldReason;
  detail: string;
  at: string;
  /** Messages it holds now (SCARD of its held set). */
  messages: number;
}

/** Statuses a purge may end (never delivered, bounced or expired: CONTRACT §Containment). */
export type PurgeableStatus = 'held' | 'queued' | 'deferred';
export const PURGEABLE_STATUSES: readonly PurgeableStatus[] = ['held', 'queued', 'deferred'];

/** Ids released per round trip while draining a credential's held set. */
const RELEASE_BATCH = 200;

/**
 * Credential holds (CONTRACT §Containment): hold state, the held-message indexes and the
 * moves between held and queued. The door holds by volume in its own stage script
 * (STAGE_MESSAGE); the worker asks checkBeforeSend before every attempt; operators hold,
 * release and purge through queue/operator. Every count here is a SCARD or HGETALL of a
 * set or hash maintained in the same script as the state change it counts.
 */
export class Holds {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #queue: MailQueue;

  constructor(redis: Redis, keys: Keys, queue: MailQueue) {
    this.#redis = redis;
    this.#keys = keys;
    this.#queue = queue;
    defineScripts(redis, CHECK_BEFORE_SEND, RELEASE_MESSAGE, PURGE_MESSAGE, HOLD_CREDENTIAL);
    defineScripts(redis, CLEAR_HOLD);
  }

  /** Put `credential` on hold. False when it already was. */
  async hold(credential: string, reason: HoldReason, detail: string): Promise<boolean> {
    const keys = this.#keys;
    const reply = await runScript(
      this.#redis,
      HOLD_CREDENTIAL,
      [keys.hold(credential), keys.heldCredentials(), keys.holdsTotal()],
      [reason, detail, new Date().toISOString(), credential],
    );
    return Number(reply) === 1;
  }

  /**
   * End the hold (its hourly count restarts from zero), then put every held message back
   * on the queue with a `released` event and a job. Safe to repeat: a release interrupted
   * half way is finished by the next one (the held set still names what is left).
   */
  async release(credential: string): Promise<{ wasHeld: boolean; released: number }> {
    const keys = this.#keys;
    const wasHeld =
      Number(
        await runScript(
          this.#redis,
          CLEAR_HOLD,
          [keys.hold(credential), keys.heldCredentials(), keys.holdVolume(credential)],
          [credential],
        ),
      ) === 1;
    let released = 0;
    for (;;) {
      const ids = await this.#redis.srandmember(keys.heldMessages(credential), RELEASE_BATCH);
      if (ids.length === 0) break;
      for (const id of ids) {
        if (await this.#releaseOne(credential, id)) released += 1;
      }
    }
    return { wasHeld, released };
  }

  /** The last KEYS of the message scripts: status counts and the status-index prefix. */
  #indexKeys(): string[] {
    return [this.#keys.statusCounts(), this.#keys.statusIndexPrefix()];
  }

  /** KEYS 1-5 of the message scripts: record, recipients, events, both held sets. */
  #messageKeys(id: string, credential: string): string[] {
    const keys = this.#keys;
    return [
      keys.message(id),
      keys.recipients(id),
      keys.events(id),
      keys.heldMessages(credential),
      keys.heldAll(),
    ];
  }

  async #releaseOne(credential: string, id: string): Promise<boolean> {
    const reply = await runScript(
      this.#redis,
      RELEASE_MESSAGE,
      [...this.#messageKeys(id, credential), ...this.#indexKeys()],
      [eventEntry('released', 'released by an operator'), id],
    );
    if (Number(reply) !== 1) return false;
    await this.#queue.ensureJob(id);
    return true;
  }

  /**
   * The worker's last look before an attempt (CHECK_BEFORE_SEND): 'paused' (the kill
   * switch is on), 'held' (its credential is on hold: its pending recipients are held
   * now) or 'go'. One script, one round trip.
   */
  async checkBeforeSend(id: string, credential: string): Promise<'paused' | 'held' | 'go'> {
    const reply = await runScript(
      this.#redis,
      CHECK_BEFORE_SEND,
      [
        ...this.#messageKeys(id, credential),
        this.#keys.hold(credential),
        this.#queue.metaKey(),
        ...webhookOutboxKeys(this.#keys),
        ...this.#indexKeys(),
      ],
      [eventEntry('held', 'credential on hold'), id],
    );
    return reply === 'paused' || reply === 'held' ? reply : 'go';
  }

  /**
   * End one message as `purged` if its status is one of `statuses` (PURGE_MESSAGE), and
   * drop its job unless a worker has it (that worker then finds nothing pending).
   */
  async purgeMessage(
    id: string,
    credential: string,
    statuses: readonly PurgeableStatus[],
  ): Promise<boolean> {
    const reply = await runScript(
      this.#redis,
      PURGE_MESSAGE,
      [...this.#messageKeys(id, credential), this.#keys.body(id), ...this.#indexKeys()],
      [statuses.join(' '), eventEntry('purged', 'purged by an operator'), id],
    );
    if (Number(reply) !== 1) return false;
    await this.#queue.discardJob(id).catch(() => {});
    return true;
  }

  /** Ids of one credential's held messages (or every held one), in pages of `count`. */
  async heldIds(credential: string | undefined, cursor: string, count: number) {
    const key =
      credential === undefined ? this.#keys.heldAll() : this.#keys.heldMessages(credential);
    const [next, ids] = await this.#redis.sscan(key, cursor, 'COUNT', count);
    return { next, ids };
  }

  async heldCount(credential?: string): Promise<number> {
    const key =
      credential === undefined ? this.#keys.heldAll() : this.#keys.heldMessages(credential);
    return this.#redis.scard(key);
  }

  async credentialsHeld(): Promise<number> {
    return this.#redis.scard(this.#keys.heldCredentials());
  }

  /** Holds so far by reason (postwarden_holds_total), shared by every process. */
  async holdsTotal(): Promise<Record<HoldReason, number>> {
    const hash = await this.#redis.hgetall(this.#keys.holdsTotal());
    return { volume: Number(hash.volume ?? 0), manual: Number(hash.manual ?? 0) };
  }

  /** Why delivery is paused (the flag itself is BullMQ's queue pause); undefined clears it. */
  async setPauseInfo(info: { reason: string; at: string; actor: string } | undefined) {
    const key = this.#keys.pauseInfo();
    if (info === undefined) await this.#redis.del(key);
    else await this.#redis.hset(key, info);
  }

  async pauseInfo(): Promise<{ reason?: string; at?: string; actor?: string }> {
    const hash = await this.#redis.hgetall(this.#keys.pauseInfo());
    return { reason: hash.reason, at: hash.at, actor: hash.actor };
  }

  /** The credentials on hold now, each with its reason and held count. */
  async list(): Promise<HoldInfo[]> {
    const names = (await this.#redis.smembers(this.#keys.heldCredentials())).sort();
    const infos = await Promise.all(names.map((name) => this.get(name)));
    return infos.flatMap((info) => (info ? [info] : []));
  }

  async get(credential: string): Promise<HoldInfo | undefined> {
    const [hash, messages] = await Promise.all([
      this.#redis.hgetall(this.#keys.hold(credential)),
      this.heldCount(credential),
    ]);
    if (!hash.reason) return undefined;
    return {
      credential,
      reason: hash.reason === 'volume' ? 'volume' : 'manual',
      detail: hash.detail ?? '',
      at: hash.at ?? '',
      messages,
    };
  }
}
