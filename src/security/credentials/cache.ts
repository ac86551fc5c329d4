/**
 * Credential reads remembered in-process, so an accepted message does not pay two Redis
 * round trips (secret → name → record) on every request. An entry is used only while
 * the credentials version it was read under is still the current one — every create,
 * rotate, revoke and remove bumps that version in the same MULTI as the change — so a
 * revocation made by any process (CLI, admin, another intake) applies to the very next
 * request. The TTL only bounds how long an entry can outlive a version counter that was
 * lost (e.g. a flushed Redis) and how much memory stale entries hold.
 */
export interface CredentialCacheOptions {
  ttlMs?: number;
  /** Entries per map; the map starts over when it is full (no LRU bookkeeping needed). */
  maxEntries?: number;
  now?: () => number;
}

interface Entry<T> {
  value: T;
  version: string;
  at: number;
}

export const DEFAULT_CREDENTIAL_CACHE_TTL_MS = 2000;

export class CredentialCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** credential name → its Redis hash (secretHash included, never the secret). */
  readonly #records = new Map<string, Entry<Record<string, string>>>();
  /** SHA-256 of a bearer secret → credential name. */
  readonly #names = new Map<string, Entry<string>>();
  /**
   * Secrets (by hash; for SMTP with the user name) that authenticated here before. Only
   * a hint for the abuse guard — such a check needs no slot reserved first, since a
   * guesser cannot produce one — never a verdict: the secret is still checked each time.
   */
  readonly #proven = new Set<string>();
  /**
   * SHA-256 of a bearer secret → the credential it last authenticated as here, for a
   * caller that confirms the version in the same step as its write (recentBearer).
   */
  readonly #bearers = new Map<string, { value: unknown; at: number }>();

  constructor(options: CredentialCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_CREDENTIAL_CACHE_TTL_MS;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  record(name: string, version: string): Record<string, string> | undefined {
    return this.#fresh(this.#records, name, version);
  }

  nameForSecret(secretHash: string, version: string): string | undefined {
    return this.#fresh(this.#names, secretHash, version);
  }

  /** Whether a record for `name` is held at all (so reading it from Redis is likely wasted). */
  hasRecord(name: string): boolean {
    return this.#records.has(name);
  }

  hasName(secretHash: string): boolean {
    return this.#names.has(secretHash);
  }

  rememberRecord(name: string, version: string, hash: Record<string, string>): void {
    this.#remember(this.#records, name, version, hash);
  }

  rememberName(secretHash: string, version: string, name: string): void {
    this.#remember(this.#names, secretHash, version, name);
  }

  isProven(key: string): boolean {
    return this.#proven.has(key);
  }

  rememberProven(key: string): void {
    if (this.#proven.size >= this.#maxEntries) this.#proven.clear();
    this.#proven.add(key);
  }

  /**
   * What `secretHash` authenticated as within the TTL, whatever the version is now: the
   * caller must confirm that version itself (CredentialStore.recentlyAuthenticated).
   */
  recentBearer<T>(secretHash: string): T | undefined {
    const entry = this.#bearers.get(secretHash);
    if (!entry) return undefined;
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#bearers.delete(secretHash);
      return undefined;
    }
    return entry.value as T;
  }

  rememberBearer<T>(secretHash: string, value: T): void {
    if (this.#ttlMs <= 0) return;
    if (this.#bearers.size >= this.#maxEntries && !this.#bearers.has(secretHash)) {
      this.#bearers.clear();
    }
    this.#bearers.set(secretHash, { value, at: this.#now() });
  }

  forgetBearer(secretHash: string): void {
    this.#bearers.delete(secretHash);
  }

  clear(): void {
    this.#bearers.clear();
    this.#records.clear();
    this.#names.clear();
    this.#proven.clear();
  }

  #fresh<T>(map: Map<string, Entry<T>>, key: string, version: string): T | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.version !== version || this.#now() - entry.at >= this.#ttlMs) {
      map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  #remember<T>(map: Map<string, Entry<T>>, key: string, version: string, value: T): void {
    if (this.#ttlMs <= 0) return;
    if (map.size >= this.#maxEntries && !map.has(key)) map.clear();
    map.set(key, { value, version, at: this.#now() });
  }
}
