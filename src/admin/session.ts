import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { SettingsStore } from '../security/settings-store.js';

export interface AdminSession {
  id: string;
  csrf: string;
}

export const SESSION_COOKIE = 'pw_admin';
/** Double-submit token for the login form itself (login CSRF), valid 30 minutes. */
export const LOGIN_COOKIE = 'pw_admin_login';
const IDLE_SECONDS = 2 * 60 * 60;
const ABSOLUTE_SECONDS = 12 * 60 * 60;

function hashId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokensEqual(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Admin sessions in Redis: a random 256-bit id in an HttpOnly cookie, stored only as its
 * hash (a Redis dump does not hand out live sessions), each with its own CSRF token.
 * Sessions expire after 2 h idle and 12 h in all, and end when the admin password changes:
 * each remembers the password generation it was made under (SettingsStore), compared on
 * every request — one field read instead of finding and deleting every session key.
 */
export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly settings: SettingsStore,
  ) {}

  async create(now = Date.now()): Promise<AdminSession> {
    const session = { id: randomToken(), csrf: randomToken() };
    const key = this.keys.adminSession(hashId(session.id));
    const generation = await this.settings.adminPasswordGeneration();
    await this.redis
      .multi()
      .hset(key, { csrf: session.csrf, createdAt: String(now), generation })
      .expire(key, IDLE_SECONDS)
      .exec();
    return session;
  }

  /** The live session for a cookie value, its idle expiry renewed; undefined otherwise. */
  async get(id: string | undefined, now = Date.now()): Promise<AdminSession | undefined> {
    if (!id || id.length > 100) return undefined;
    const key = this.keys.adminSession(hashId(id));
    const [hash, generation] = await Promise.all([
      this.redis.hgetall(key),
      this.settings.adminPasswordGeneration(),
    ]);
    if (!hash.csrf) return undefined;
    const expired = now - Number(hash.createdAt ?? 0) > ABSOLUTE_SECONDS * 1000;
    if (expired || (hash.generation ?? '0') !== generation) {
      await this.redis.del(key);
      return undefined;
    }
    await this.redis.expire(key, IDLE_SECONDS);
    return { id, csrf: hash.csrf };
  }

  async destroy(id: string): Promise<void> {
    await this.redis.del(this.keys.adminSession(hashId(id)));
  }
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(index + 1).trim());
  }
  return cookies;
}

export function serializeCookie(
  name: string,
  value: string,
  options: { secure: boolean; maxAgeSeconds?: number },
): string {
  const parts = [`${name}=${value}`, 'Path=/admin', 'HttpOnly', 'SameSite=Strict'];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

export const SESSION_MAX_AGE_SECONDS = ABSOLUTE_SECONDS;
