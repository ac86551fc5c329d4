import { randomBytes } from 'node:crypto';
import { PostwardenError } from '../../errors.js';
import { isValidSenderPattern } from '../sender-policy.js';

/** A credential as the store keeps it in its Redis hash (CredentialStore reads and writes it). */
export interface Credential {
  /**
   * Immutable random id, made at create and kept across rotate; a revoked name created
   * again gets a new one. Messages and Idempotency-Keys belong to the id, not the name
   * (CONTRACT §CLI: a credential is an identity, not a name).
   */
  id: string;
  /** Which secret is current: 1 at create, +1 at every rotate (sessions compare it). */
  generation: number;
  name: string;
  allowFrom: string[];
  /** `--allow-to` recipient patterns; empty = any recipient (CONTRACT §Containment). */
  allowTo: string[];
  /** Messages per minute; undefined = no per-credential limit. */
  ratePerMinute: number | undefined;
  /** Recipients per message; undefined = the global POSTWARDEN_MAX_RECIPIENTS. */
  maxRecipients: number | undefined;
  /** Trailing-hour volume above which it is held; undefined = POSTWARDEN_HOLD_ABOVE; 0 = never. */
  holdAbove?: number | undefined;
  createdAt: string;
  revoked: boolean;
}

export interface NewCredential {
  name: string;
  allowFrom: string[];
  allowTo?: string[] | undefined;
  ratePerMinute?: number | undefined;
  maxRecipients?: number | undefined;
  holdAbove?: number | undefined;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidCredentialName(name: string): boolean {
  return NAME_RE.test(name);
}

/** A new credential id: 96 random bits, never reused. */
export function newCredentialId(): string {
  return `cr_${randomBytes(12).toString('base64url')}`;
}

export function toCredential(hash: Record<string, string>): Credential | undefined {
  if (!hash.name) return undefined;
  return {
    // Credentials made before ids existed: name and creation time identify them just as
    // immutably (rotate keeps createdAt, a new create of the name sets a new one).
    id: hash.id ?? `legacy:${hash.name}:${hash.createdAt ?? ''}`,
    // Those have no generation field yet: 0, and their first rotate's HINCRBY makes it 1.
    generation: Number(hash.generation ?? 0),
    name: hash.name,
    allowFrom: JSON.parse(hash.allowFrom ?? '[]') as string[],
    allowTo: JSON.parse(hash.allowTo ?? '[]') as string[],
    ratePerMinute: hash.rate ? Number(hash.rate) : undefined,
    maxRecipients: hash.maxRecipients ? Number(hash.maxRecipients) : undefined,
    holdAbove: hash.holdAbove !== undefined ? Number(hash.holdAbove) : undefined,
    createdAt: hash.createdAt ?? '',
    revoked: hash.revoked === '1',
  };
}

/** `--allow-from` and `--allow-to` share one syntax (CONTRACT §CLI). */
export function checkPatterns(patterns: readonly string[], code: string, kind: string): void {
  for (const pattern of patterns) {
    if (!isValidSenderPattern(pattern)) {
      throw new PostwardenError(
        code,
        `"${pattern}" is not a ${kind} pattern; write user@example.com, *@example.com or *@*.example.com`,
      );
    }
  }
}

export function normalizePatterns(patterns: readonly string[]): string[] {
  return patterns.map((pattern) => pattern.trim().toLowerCase());
}
