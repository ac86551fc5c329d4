import type { Redis } from 'ioredis';
import { MIN_ADMIN_PASSWORD_LENGTH } from '../config/schema.js';
import { PostwardenError } from '../errors.js';
import type { Keys } from '../redis/keys.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';

/** What `postwarden selftest` last concluded (CONTRACT §CLI), in unix seconds. */
export interface SelftestRecord {
  ok: boolean;
  atSeconds: number;
}

/**
 * The relay's own settings in Redis, with one owner: the admin password (only its scrypt
 * hash is stored) and the last self-test result. The server's start-up, the admin login,
 * the CLI and the metrics gauge all go through here instead of reading hash fields.
 */
export class SettingsStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async verifyAdminPassword(password: string): Promise<boolean> {
    if (password === '') return false;
    const stored = await this.redis.hget(this.keys.settings(), 'passwordHash');
    return stored !== null && (await verifyPassword(password, stored));
  }

  /**
   * A new admin password (at least MIN_ADMIN_PASSWORD_LENGTH characters, else
   * PostwardenError `weak_password`). Its generation goes up in the same step, which ends
   * every admin session made under the old one (SessionStore compares it on each request:
   * one field read, no scan of the sessions).
   */
  async setAdminPassword(password: string): Promise<void> {
    if ([...password].length < MIN_ADMIN_PASSWORD_LENGTH) {
      throw new PostwardenError(
        'weak_password',
        `the admin password must have at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`,
      );
    }
    const hash = await hashPassword(password);
    await this.redis
      .multi()
      .hset(this.keys.settings(), 'passwordHash', hash)
      .hincrby(this.keys.settings(), 'passwordGeneration', 1)
      .exec();
  }

  /** Which admin password is current: sessions remember it (0 before the first change). */
  async adminPasswordGeneration(): Promise<string> {
    return (await this.redis.hget(this.keys.settings(), 'passwordGeneration')) ?? '0';
  }

  /**
   * The admin password at start-up: POSTWARDEN_ADMIN_PASSWORD when set (the stored hash is
   * kept in step), else one generated on the very first start. Returns the generated
   * password so it can be printed once.
   */
  async ensureAdminPassword(configured: string | undefined): Promise<{ generated?: string }> {
    const stored = await this.redis.hget(this.keys.settings(), 'passwordHash');
    if (configured !== undefined) {
      if (!stored || !(await verifyPassword(configured, stored))) {
        await this.setAdminPassword(configured);
      }
      return {};
    }
    if (stored) return {};
    const generated = generatePassword();
    const hash = await hashPassword(generated);
    // HSETNX: two processes starting together must not print two different passwords.
    const won = await this.redis.hsetnx(this.keys.settings(), 'passwordHash', hash);
    return won === 1 ? { generated } : {};
  }

  async recordSelftest(record: SelftestRecord): Promise<void> {
    const at = String(record.atSeconds);
    await this.redis.hset(this.keys.selftestResult(), {
      ok: record.ok ? '1' : '0',
      at,
      ...(record.ok ? { lastSuccessAt: at } : {}),
    });
  }

  /** Unix seconds of the last successful self-test (the postwarden_selftest_last_success gauge). */
  async lastSelftestSuccess(): Promise<number | undefined> {
    const at = await this.redis.hget(this.keys.selftestResult(), 'lastSuccessAt');
    return at ? Number(at) : undefined;
  }
}
