import { normalizeAddress } from '../message/addresses.js';

/**
 * `--allow-from` and `--allow-to` patterns (CONTRACT §CLI, same syntax): `user@example.com` (that address),
 * `*@example.com` (any address of that domain, not its subdomains),
 * `*@*.example.com` (any address of any subdomain).
 */
const PATTERN_RE = /^(\*|[^@\s*]+)@(\*\.)?([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$/;

export function isValidSenderPattern(pattern: string): boolean {
  return PATTERN_RE.test(pattern.trim());
}

function matchesPattern(pattern: string, address: string): boolean {
  const [patternLocal, patternDomain] = splitAt(normalizeAddress(pattern));
  const [local, domain] = splitAt(normalizeAddress(address));
  if (!patternDomain || !domain) return false;
  if (patternLocal !== '*' && patternLocal !== local) return false;
  if (patternDomain.startsWith('*.')) {
    const parent = patternDomain.slice(2);
    return domain.endsWith(`.${parent}`) && domain.length > parent.length + 1;
  }
  return domain === patternDomain;
}

function splitAt(address: string): [string, string] {
  const at = address.lastIndexOf('@');
  return at === -1 ? [address, ''] : [address.slice(0, at), address.slice(at + 1)];
}

/** Whether a credential granted `patterns` may send as `address`. */
export function isSenderAllowed(patterns: readonly string[], address: string): boolean {
  return patterns.some((pattern) => matchesPattern(pattern, address));
}

/**
 * Whether a credential with `--allow-to` `patterns` may mail `address`. No pattern = no
 * recipient limit; with at least one, every recipient must match one (CONTRACT §CLI).
 */
export function isRecipientAllowed(patterns: readonly string[], address: string): boolean {
  return patterns.length === 0 || isSenderAllowed(patterns, address);
}
