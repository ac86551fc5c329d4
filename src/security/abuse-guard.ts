import type { BlockList } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BanEvent, FailedLogin } from '../observability/attack-stats.js';
import { LogEvent, plainIp } from '../observability/events.js';
import type { Keys } from '../redis/keys.js';
import { CheckSlots, type SlotKeys } from './check-slots.js';
import { guardAddress } from './client-address.js';
import { isInNetworks, networkBlockList } from './networks.js';

export type AuthFailure = FailedLogin;
export type AuthProtocol = AuthFailure['protocol'];

export interface AbuseGuardOptions {
  /** Failures within the window that ban an IP (CONTRACT: the tenth). */
  maxFailures?: number;
  windowSeconds?: number;
  /** First ban; each repeat offence doubles it. */
  banSeconds?: number;
  trustedNetworks?: string[];
  /** Checks of one address that may be in flight at once (default 5). */
  maxInFlight?: number;
  /** How long a check waits for a slot before it is answered "busy" (default 2 s). */
  slotWaitMs?: number;
  /** Called for every counted failure, the address written plainly (metrics, attack view). */
  onFailure?: (failure: AuthFailure) => void;
  /** Called when an address is banned (the attack view's timeline). */
  onBan?: (ban: BanEvent) => void;
}

/** A slot taken by reserve(): the secret may be checked now, then settle() it. */
export interface Reservation {
  ip: string;
  /** No slot in Redis: a trusted address, never counted. */
  trusted: boolean;
}

export type ReserveResult =
  | { ok: true; reservation: Reservation }
  /** banned: refuse as banned; busy: the address has no check left before a ban, for now. */
  | { ok: false; reason: 'banned' | 'busy' };

export interface BanInfo {
  ip: string;
  until: string;
  secondsLeft: number;
}

/**
 * Failed authentications count per client address in Redis (IPv4, or an IPv6 /64:
 * guardAddress); the tenth within ten minutes bans it for an hour, doubling for repeat
 * offenders. Bans are by address only, never by user name, so an attacker cannot lock the
 * real user out. Shared by every intake process. Secret checks take a slot first
 * (reserve/settle), so parallel guesses cannot outrun the count.
 */
export class AbuseGuard {
  readonly #maxFailures: number;
  readonly #windowSeconds: number;
  readonly #banSeconds: number;
  readonly #trusted: BlockList;
  readonly #onFailure: AbuseGuardOptions['onFailure'];
  readonly #onBan: AbuseGuardOptions['onBan'];
  readonly #slots: CheckSlots;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly logger: Logger,
    options: AbuseGuardOptions = {},
  ) {
    this.#maxFailures = options.maxFailures ?? 10;
    this.#windowSeconds = options.windowSeconds ?? 600;
    this.#banSeconds = options.banSeconds ?? 3600;
    this.#trusted = networkBlockList(options.trustedNetworks ?? []);
    this.#onFailure = options.onFailure;
    this.#onBan = options.onBan;
    this.#slots = new CheckSlots(redis, {
      maxFailures: this.#maxFailures,
      maxInFlight: options.maxInFlight ?? 5,
      waitMs: options.slotWaitMs ?? 2000,
      windowSeconds: this.#windowSeconds,
    });
  }

  #slotKeys(key: string): SlotKeys {
    return {
      ban: this.#banKey(key),
      failures: this.#failuresKey(key),
      inFlight: `${this.keys.abusePrefix()}:inflight:${key}`,
    };
  }

  #failuresKey(ip: string): string {
    return `${this.keys.abusePrefix()}:fail:${ip}`;
  }
  #banKey(ip: string): string {
    return `${this.keys.abusePrefix()}:ban:${ip}`;
  }
  #offencesKey(ip: string): string {
    return `${this.keys.abusePrefix()}:offences:${ip}`;
  }
  #bansIndex(): string {
    return `${this.keys.abusePrefix()}:bans`;
  }

  isTrusted(ip: string): boolean {
    return isInNetworks(this.#trusted, ip);
  }

  /**
   * The key whose existence bans `ip` (undefined for a trusted address, never banned):
   * for a write that checks the ban in its own atomic step (the stage script).
   */
  banKeyOf(ip: string): string | undefined {
    const plain = plainIp(ip);
    return this.isTrusted(plain) ? undefined : this.#banKey(guardAddress(plain));
  }

  async isBanned(ip: string): Promise<boolean> {
    const plain = plainIp(ip);
    if (this.isTrusted(plain)) return false;
    return (await this.redis.exists(this.#banKey(guardAddress(plain)))) === 1;
  }

  /**
   * Take a slot before checking a secret (CONTRACT §Abuse guard: guesses in flight
   * together count too). In one script: refused when the address is banned, and no slot
   * while failures + checks in flight have reached the ban limit or the in-flight cap — so
   * at most ten checks are ever made before the ban and none after it, however many
   * guesses arrive at once. A full address waits a little for a slot (a burst of honest
   * logins settles in milliseconds) and is then answered "busy", unchecked.
   */
  async reserve(ip: string): Promise<ReserveResult> {
    const plain = plainIp(ip);
    if (this.isTrusted(plain)) return { ok: true, reservation: { ip: plain, trusted: true } };
    const answer = await this.#slots.take(this.#slotKeys(guardAddress(plain)));
    if (answer === 'ok') return { ok: true, reservation: { ip: plain, trusted: false } };
    return { ok: false, reason: answer };
  }

  /**
   * Give the slot back with the check's outcome. A success is allowed only if the address
   * was not banned meanwhile (by guesses that were in flight with it); a failure is
   * counted, logged and may ban, exactly as recordFailure.
   */
  async settle(
    reservation: Reservation,
    outcome: { ok: true } | { ok: false; failure: AuthFailure },
  ): Promise<{ allowed: boolean; banned: boolean }> {
    if (!outcome.ok) this.#logFailure(outcome.failure);
    if (reservation.trusted) return { allowed: outcome.ok, banned: false };
    const key = guardAddress(reservation.ip);
    const count = await this.#slots.give(this.#slotKeys(key), outcome.ok);
    if (outcome.ok)
      return count === -1 ? { allowed: false, banned: true } : { allowed: true, banned: false };
    return { allowed: false, banned: await this.#banAtLimit(key, count, outcome.failure) };
  }

  /** Count one failure made without a slot (a malformed exchange), log it, maybe ban. */
  async recordFailure(failure: AuthFailure): Promise<{ banned: boolean }> {
    const ip = plainIp(failure.ip);
    this.#logFailure(failure);
    if (this.isTrusted(ip)) return { banned: false };
    const key = guardAddress(ip);
    const [[, count]] = (await this.redis
      .multi()
      .incr(this.#failuresKey(key))
      .expire(this.#failuresKey(key), this.#windowSeconds, 'NX')
      .exec()) as [[unknown, number]];
    return { banned: await this.#banAtLimit(key, count, failure) };
  }

  #logFailure(failure: AuthFailure): void {
    const ip = plainIp(failure.ip);
    this.logger.warn(
      { event: LogEvent.authFailed, ip, protocol: failure.protocol, user: failure.user },
      'authentication failed',
    );
    this.#onFailure?.({ ...failure, ip });
  }

  /** Ban `ip` (a guard address) when `count` failures reached the limit; whether it did. */
  async #banAtLimit(ip: string, count: number, failure: AuthFailure): Promise<boolean> {
    if (count < this.#maxFailures) return false;
    const offences = await this.redis.incr(this.#offencesKey(ip));
    await this.redis.expire(this.#offencesKey(ip), 30 * 24 * 3600);
    const seconds = this.#banSeconds * 2 ** Math.min(offences - 1, 10);
    const until = Date.now() + seconds * 1000;
    await this.redis
      .multi()
      .set(this.#banKey(ip), String(until), 'EX', seconds)
      .zadd(this.#bansIndex(), until, ip)
      .del(this.#failuresKey(ip))
      .exec();
    this.logger.warn(
      {
        event: LogEvent.ipBanned,
        ip: plainIp(failure.ip),
        ...(ip.endsWith('/64') ? { network: ip } : {}),
        protocol: failure.protocol,
        user: failure.user,
        seconds,
      },
      'ip banned',
    );
    this.#onBan?.({
      ip,
      protocol: failure.protocol,
      user: failure.user,
      at: new Date(until - seconds * 1000).toISOString(),
      until: new Date(until).toISOString(),
    });
    return true;
  }

  /** Failures counted for an IP in the current window. */
  async failureCount(ip: string): Promise<number> {
    return Number((await this.redis.get(this.#failuresKey(guardAddress(ip)))) ?? 0);
  }

  /**
   * Take back `count` failures that we caused ourselves (the selftest probes its own
   * doors and must leave no trace). Never below zero.
   */
  async forgiveFailures(ip: string, count: number): Promise<void> {
    if (count <= 0) return;
    const key = this.#failuresKey(guardAddress(ip));
    const left = await this.redis.decrby(key, count);
    if (left <= 0) await this.redis.del(key);
  }

  async listBans(now = Date.now()): Promise<BanInfo[]> {
    await this.redis.zremrangebyscore(this.#bansIndex(), '-inf', String(now));
    const entries = await this.redis.zrange(this.#bansIndex(), '0', '-1', 'WITHSCORES');
    const bans: BanInfo[] = [];
    for (let i = 0; i < entries.length; i += 2) {
      const ip = entries[i] as string;
      const until = Number(entries[i + 1]);
      bans.push({
        ip,
        until: new Date(until).toISOString(),
        secondsLeft: Math.ceil((until - now) / 1000),
      });
    }
    return bans;
  }

  /** Lift a ban; false when the IP was not banned. Its failure count starts again. */
  async unban(ip: string): Promise<boolean> {
    const plain = guardAddress(ip);
    const [[, removed]] = (await this.redis
      .multi()
      .del(this.#banKey(plain))
      .zrem(this.#bansIndex(), plain)
      .del(this.#failuresKey(plain))
      .exec()) as [[unknown, number]];
    return removed === 1;
  }
}
