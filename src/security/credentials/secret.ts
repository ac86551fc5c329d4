import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new credential secret: 256 random bits, URL-safe, recognisable by its prefix. */
export function generateSecret(): string {
  return `pw_${randomBytes(32).toString('base64url')}`;
}

/**
 * Secrets are 256-bit random strings, so a fast hash is enough (a slow KDF protects
 * guessable passwords; these are not guessable). Only this hash is stored.
 */
export function hashSecret(secret: string): string {
  // The one-shot hash: no Hash object per call (this runs on every API request).
  return hash('sha256', secret, 'hex');
}

export function secretMatchesHash(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
