import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import { AUTH_PROTOCOLS, type AuthProtocol } from './metrics.js';

const HOUR_MS = 3_600_000;
/** Hours the attack view shows (CONTRACT §Admin page: failed logins over the last day). */
export const ATTACK_HOURS = 24;
/** Hourly buckets outlive the view by an hour, so the oldest shown hour is still whole. */
const KEEP_SECONDS = (ATTACK_HOURS + 1) * 3600;
/** Distinct addresses / user names kept per hour: a scan from thousands of hosts stays bounded. */
const TOP_KEPT_PER_HOUR = 500;
/** Ban events kept for the timeline. */
const BANS_KEPT = 200;
const TOP_SHOWN = 20;
/** Longest user name kept (what an attacker types is untrusted). */
const MAX_USER_LENGTH = 100;

/** One failed authentication, as the abuse guard counts it. */
export interface FailedLogin {
  /** Written plainly (IPv4 never `::ffff:`-mapped). */
  ip: string;
  protocol: AuthProtocol;
  /** The user name tried; null for a bearer token. */
  user: string | null;
}

/** One ban as it began: who, how it was earned, until when (ISO-8601). */
export interface BanEvent extends FailedLogin {
  at: string;
  until: string;
}

export interface AttackView {
  /** Oldest first: one row per hour of the last ATTACK_HOURS, the current one included. */
  hours: Array<{ hour: string } & Record<AuthProtocol, number>>;
  topAddresses: Array<{ value: string; count: number }>;
  topUsers: Array<{ value: string; count: number }>;
  /** Newest first. */
  bans: BanEvent[];
}

/**
 * The attack view's numbers (CONTRACT §Admin page), kept as they happen instead of read
 * from logs: failed logins per hour by protocol, the addresses and user names tried, and
 * the ban timeline. Every structure is bounded: hourly keys expire after a day, each
 * hour keeps at most TOP_KEPT_PER_HOUR addresses and names (the least tried are dropped
 * first), the timeline is capped. Written by the abuse guard's hooks (fire-and-forget: a
 * counter never fails a login check), read by the admin page.
 */
export class AttackStats {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  recordFailure(failure: FailedLogin, now = Date.now()): void {
    const hour = Math.floor(now / HOUR_MS);
    const pipeline = this.redis.pipeline();
    const counts = this.keys.attackHour(hour);
    pipeline.hincrby(counts, failure.protocol, 1).expire(counts, KEEP_SECONDS);
    this.#bumpTop(pipeline, this.keys.attackAddresses(hour), failure.ip);
    if (failure.user) {
      this.#bumpTop(pipeline, this.keys.attackUsers(hour), failure.user.slice(0, MAX_USER_LENGTH));
    }
    pipeline.exec().catch(() => {});
  }

  #bumpTop(pipeline: ReturnType<Redis['pipeline']>, key: string, member: string): void {
    pipeline
      .zincrby(key, 1, member)
      .zremrangebyrank(key, 0, -(TOP_KEPT_PER_HOUR + 1))
      .expire(key, KEEP_SECONDS);
  }

  recordBan(ban: BanEvent): void {
    this.redis
      .pipeline()
      .lpush(this.keys.attackBans(), JSON.stringify(ban))
      .ltrim(this.keys.attackBans(), 0, BANS_KEPT - 1)
      .exec()
      .catch(() => {});
  }

  async read(now = Date.now()): Promise<AttackView> {
    const current = Math.floor(now / HOUR_MS);
    const range = Array.from({ length: ATTACK_HOURS }, (_, i) => current - ATTACK_HOURS + 1 + i);
    const pipeline = this.redis.pipeline();
    for (const hour of range) pipeline.hmget(this.keys.attackHour(hour), ...AUTH_PROTOCOLS);
    const replies = (await pipeline.exec()) ?? [];
    const hours = range.map((hour, index) => {
      const values = (replies[index]?.[1] as (string | null)[] | undefined) ?? [];
      const row = { hour: new Date(hour * HOUR_MS).toISOString(), smtp: 0, http: 0, admin: 0 };
      AUTH_PROTOCOLS.forEach((protocol, i) => {
        row[protocol] = Number(values[i] ?? 0);
      });
      return row;
    });
    const [topAddresses, topUsers, bans] = await Promise.all([
      this.#top(range.map((hour) => this.keys.attackAddresses(hour))),
      this.#top(range.map((hour) => this.keys.attackUsers(hour))),
      this.redis.lrange(this.keys.attackBans(), 0, BANS_KEPT - 1),
    ]);
    return {
      hours,
      topAddresses,
      topUsers,
      bans: bans.flatMap((entry) => {
        try {
          return [JSON.parse(entry) as BanEvent];
        } catch {
          return [];
        }
      }),
    };
  }

  /** The most counted members over the hourly sets: at most 24 × TOP_KEPT_PER_HOUR to merge. */
  async #top(keys: string[]): Promise<Array<{ value: string; count: number }>> {
    const merged = await this.redis.zunion(keys.length, ...keys, 'WITHSCORES');
    const rows: Array<{ value: string; count: number }> = [];
    for (let i = 0; i < merged.length; i += 2) {
      rows.push({ value: String(merged[i] ?? ''), count: Number(merged[i + 1] ?? 0) });
    }
    return rows
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
      .slice(0, TOP_SHOWN);
  }
}
