import type { BlockList } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BanEvent, FailedLogin } from '../observability/attack-stats.js';
import { LogEvent, plainIp } from '../observability/events.js';
import type { Keys } from '../redis/keys.js';
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
  /** Called for every counted failure, the address written plainly (metrics, attack view). */
  onFailure?: (failure: AuthFailure) => void;
  /** Called when an address is banned (the attack view's timeline). */
  onBan?: (ban: BanEvent) => void;
}

export interface BanInfo {
  ip: string;
  until: string;
  secondsLeft: number;
}

/**
 * Failed authentications count per client IP in Redis; the tenth within ten minutes bans
 * the IP for an hour, doubling for repeat offenders. Bans are by IP only, never by user
 * name, so an attacker cannot lock the real user out. Shared by every intake process.
 */
export class AbuseGuard {
  readonly #maxFailures: number;
  readonly #windowSeconds: number;
  readonly #banSeconds: number;
  readonly #trusted: BlockList;
  readonly #onFailure: AbuseGuardOptions['onFailure'];
  readonly #onBan: AbuseGuardOptions['onBan'];

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

  async isBanned(ip: string): Promise<boolean> {
    const plain = plainIp(ip);
    if (this.isTrusted(plain)) return false;
    return (await this.redis.exists(this.#banKey(plain))) === 1;
  }

  /** Count one failure, log it, and ban the IP when it reaches the limit. */
  async recordFailure(failure: AuthFailure): Promise<{ banned: boolean }> {
    const ip = plainIp(failure.ip);
    this.logger.warn(
      { event: LogEvent.authFailed, ip, protocol: failure.protocol, user: failure.user },
      'authentication failed',
    );
    this.#onFailure?.({ ...failure, ip });
    if (this.isTrusted(ip)) return { banned: false };
    const [[, count]] = (await this.redis
      .multi()
      .incr(this.#failuresKey(ip))
      .expire(this.#failuresKey(ip), this.#windowSeconds, 'NX')
      .exec()) as [[unknown, number]];
    if (count < this.#maxFailures) return { banned: false };
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
      { event: LogEvent.ipBanned, ip, protocol: failure.protocol, user: failure.user, seconds },
      'ip banned',
    );
    this.#onBan?.({
      ip,
      protocol: failure.protocol,
      user: failure.user,
      at: new Date(until - seconds * 1000).toISOString(),
      until: new Date(until).toISOString(),
    });
    return { banned: true };
  }

  /** Failures counted for an IP in the current window. */
  async failureCount(ip: string): Promise<number> {
    return Number((await this.redis.get(this.#failuresKey(plainIp(ip)))) ?? 0);
  }

  /**
   * Take back `count` failures that we caused ourselves (the selftest probes its own
   * doors and must leave no trace). Never below zero.
   */
  async forgiveFailures(ip: string, count: number): Promise<void> {
    if (count <= 0) return;
    const key = this.#failuresKey(plainIp(ip));
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
    const plain = plainIp(ip);
    const [[, removed]] = (await this.redis
      .multi()
      .del(this.#banKey(plain))
      .zrem(this.#bansIndex(), plain)
      .del(this.#failuresKey(plain))
      .exec()) as [[unknown, number]];
    return removed === 1;
  }
}
