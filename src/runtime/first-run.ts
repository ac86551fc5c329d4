import type { Redis } from 'ioredis';
import { generatePassword, hashPassword, verifyPassword } from '../admin/password.js';
import type { Keys } from '../redis/keys.js';

/**
 * The admin password: POSTWARDEN_ADMIN_PASSWORD when set (its hash is kept in step), else
 * generated on the first start only. Returns the generated password so it can be printed
 * once; only the scrypt hash is stored.
 */
export async function ensureAdminPassword(
  redis: Redis,
  keys: Keys,
  configured: string | undefined,
): Promise<{ generated: string | undefined }> {
  const stored = await redis.hget(keys.admin(), 'passwordHash');
  if (configured !== undefined) {
    if (!stored || !(await verifyPassword(configured, stored))) {
      await setAdminPassword(redis, keys, configured);
    }
    return { generated: undefined };
  }
  if (stored) return { generated: undefined };
  const generated = generatePassword();
  const hash = await hashPassword(generated);
  // HSETNX: two processes starting together must not print two different passwords.
  const won = await redis.hsetnx(keys.admin(), 'passwordHash', hash);
  return { generated: won === 1 ? generated : undefined };
}

export async function setAdminPassword(redis: Redis, keys: Keys, password: string): Promise<void> {
  await redis.hset(keys.admin(), 'passwordHash', await hashPassword(password));
}
