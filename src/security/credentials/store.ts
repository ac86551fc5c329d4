import type { Redis } from 'ioredis';
import { PostwardenError } from '../../errors.js';
import type { Keys } from '../../redis/keys.js';
import { CredentialCache, type CredentialCacheOptions } from './cache.js';
import {
  type Credential,
  checkPatterns,
  isValidCredentialName,
  type NewCredential,
  newCredentialId,
  normalizePatterns,
  toCredential,
} from './record.js';
import { generateSecret, hashSecret, secretMatchesHash } from './secret.js';

export type { Credential, NewCredential } from './record.js';

/**
 * Credentials in Redis. Only the SHA-256 of a secret is stored; the secret is returned
 * once, by create and rotate. Reads on the submission path (authenticate, get) go through
 * an in-process cache checked against a version counter that every change bumps
 * atomically with it (see cache.ts): a hit costs one small GET, which callers can send
 * together with their other reads; a revoke from any process applies to the next request.
 */
export class CredentialStore {
  readonly #cache: CredentialCache;
  /** The credentials version each credential this store returned was read at. */
  readonly #readAt = new WeakMap<Credential, string>();
  /** A credential → the last read of it current() returned (same secret, still valid). */
  readonly #newer = new WeakMap<Credential, Credential>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    cacheOptions: CredentialCacheOptions = {},
  ) {
    this.#cache = new CredentialCache(cacheOptions);
  }

  async create(input: NewCredential): Promise<{ credential: Credential; secret: string }> {
    if (!isValidCredentialName(input.name)) {
      throw new PostwardenError(
        'invalid_name',
        'credential names are 1-64 characters of letters, digits, dot, dash and underscore',
      );
    }
    if (input.allowFrom.length === 0) {
      throw new PostwardenError(
        'invalid_allow_from',
        'at least one --allow-from pattern is required',
      );
    }
    checkPatterns(input.allowFrom, 'invalid_allow_from', 'sender');
    checkPatterns(input.allowTo ?? [], 'invalid_allow_to', 'recipient');
    const existing = toCredential(await this.redis.hgetall(this.keys.credential(input.name)));
    if (existing && !existing.revoked) {
      throw new PostwardenError('exists', `credential ${input.name} already exists`);
    }
    const secret = generateSecret();
    const secretHash = hashSecret(secret);
    const credential: Credential = {
      id: newCredentialId(),
      generation: 1,
      name: input.name,
      allowFrom: normalizePatterns(input.allowFrom),
      allowTo: normalizePatterns(input.allowTo ?? []),
      ratePerMinute: input.ratePerMinute,
      maxRecipients: input.maxRecipients,
      holdAbove: input.holdAbove,
      createdAt: new Date().toISOString(),
      revoked: false,
    };
    const fields: Record<string, string> = {
      id: credential.id,
      generation: String(credential.generation),
      name: credential.name,
      secretHash,
      allowFrom: JSON.stringify(credential.allowFrom),
      createdAt: credential.createdAt,
      revoked: '0',
    };
    if (credential.allowTo.length > 0) fields.allowTo = JSON.stringify(credential.allowTo);
    if (credential.ratePerMinute !== undefined) fields.rate = String(credential.ratePerMinute);
    if (credential.maxRecipients !== undefined)
      fields.maxRecipients = String(credential.maxRecipients);
    if (credential.holdAbove !== undefined) fields.holdAbove = String(credential.holdAbove);
    await this.#change(
      this.redis
        .multi()
        .del(this.keys.credential(input.name))
        .hset(this.keys.credential(input.name), fields)
        .sadd(this.keys.credentialNames(), input.name)
        .set(this.keys.credentialBySecret(secretHash), input.name),
    );
    return { credential, secret };
  }

  /** The credential as it is now (a revoke or rotate from any process is seen at once). */
  async get(name: string): Promise<Credential | undefined> {
    if (!isValidCredentialName(name)) return undefined;
    const [hash, version] = await this.#record(name);
    return this.#stamp(toCredential(hash), version);
  }

  /**
   * The credentials version `credential` was read at (every change to any credential
   * bumps it), or undefined for one this store did not return. The stage script accepts a
   * message only while the version is still that (queue/scripts.ts STAGE_MESSAGE), which
   * is the door's re-check without a read of its own.
   */
  readAt(credential: Credential): string | undefined {
    return this.#readAt.get(credential);
  }

  /** The last read of `held` that current(held) confirmed (`held` itself if none). */
  latest(held: Credential): Credential {
    return this.#newer.get(held) ?? held;
  }

  #stamp(credential: Credential | undefined, version: string): Credential | undefined {
    if (credential) this.#readAt.set(credential, version);
    return credential;
  }

  /**
   * `held` as it is now, when it is still the credential and the secret it was
   * authenticated with: same id, same generation, not revoked. Undefined after a rotate, a
   * revoke, or a revoke and create of the same name (CONTRACT §CLI: a session or request
   * authenticated with the old secret queues nothing more). Costs what get() costs: one
   * GET of the version counter while the cached record is current.
   */
  async current(held: Credential): Promise<Credential | undefined> {
    const now = await this.get(held.name);
    if (!now || now.revoked || now.id !== held.id || now.generation !== held.generation) {
      return undefined;
    }
    this.#newer.set(held, now);
    return now;
  }

  async list(): Promise<Credential[]> {
    const names = (await this.redis.smembers(this.keys.credentialNames())).sort();
    const found = await Promise.all(
      names.map(async (name) => toCredential(await this.redis.hgetall(this.keys.credential(name)))),
    );
    return found.filter((credential): credential is Credential => credential !== undefined);
  }

  /** Revoke: the secret stops working at once. Returns false for an unknown name. */
  async revoke(name: string): Promise<boolean> {
    const hash = isValidCredentialName(name)
      ? await this.redis.hgetall(this.keys.credential(name))
      : {};
    if (!hash.name) return false;
    const multi = this.redis.multi().hset(this.keys.credential(name), 'revoked', '1');
    if (hash.secretHash) multi.del(this.keys.credentialBySecret(hash.secretHash));
    await this.#change(multi);
    return true;
  }

  /** Remove a credential entirely (the selftest's temporary one). */
  async remove(name: string): Promise<void> {
    const hash = isValidCredentialName(name)
      ? await this.redis.hgetall(this.keys.credential(name))
      : {};
    const multi = this.redis
      .multi()
      .del(this.keys.credential(name))
      .srem(this.keys.credentialNames(), name);
    if (hash.secretHash) multi.del(this.keys.credentialBySecret(hash.secretHash));
    await this.#change(multi);
  }

  /** A new secret for an existing, unrevoked credential; the old one stops working. */
  async rotate(name: string): Promise<string | undefined> {
    const hash = isValidCredentialName(name)
      ? await this.redis.hgetall(this.keys.credential(name))
      : {};
    if (!hash.name || hash.revoked === '1') return undefined;
    const secret = generateSecret();
    const secretHash = hashSecret(secret);
    const multi = this.redis
      .multi()
      .hset(this.keys.credential(name), 'secretHash', secretHash)
      .hincrby(this.keys.credential(name), 'generation', 1)
      .set(this.keys.credentialBySecret(secretHash), name);
    if (hash.secretHash) multi.del(this.keys.credentialBySecret(hash.secretHash));
    await this.#change(multi);
    return secret;
  }

  /**
   * Whether this secret (with this SMTP user name; none for a bearer) authenticated in
   * this process before: the abuse guard lets such checks skip its slot (see cache.ts).
   */
  isProvenSecret(secret: string, name = ''): boolean {
    return this.#cache.isProven(provenKey(secret, name));
  }

  /** SMTP AUTH: username = credential name, password = secret. */
  async authenticate(name: string, secret: string): Promise<Credential | undefined> {
    if (!isValidCredentialName(name)) return undefined;
    const [hash, version] = await this.#record(name);
    return this.#stamp(this.#proven(verified(hash, secret), secret, name), version);
  }

  #proven(credential: Credential | undefined, secret: string, name: string) {
    if (credential) this.#cache.rememberProven(provenKey(secret, name));
    return credential;
  }

  /**
   * HTTP bearer: the secret alone. Unknown secrets are not cached (guesses would only
   * fill memory); they cost the two reads they always did.
   */
  async authenticateBySecret(secret: string): Promise<Credential | undefined> {
    if (!secret.startsWith('pw_') || secret.length > 200) return undefined;
    const secretHash = hashSecret(secret);
    const known = this.#cache.hasName(secretHash);
    const [version, fetched] = await Promise.all([
      this.#version(),
      known ? undefined : this.redis.get(this.keys.credentialBySecret(secretHash)),
    ]);
    let name = this.#cache.nameForSecret(secretHash, version);
    if (name === undefined) {
      const found =
        fetched === undefined
          ? await this.redis.get(this.keys.credentialBySecret(secretHash))
          : fetched;
      if (!found) return undefined;
      name = found;
      this.#cache.rememberName(secretHash, version, name);
    }
    if (!isValidCredentialName(name)) return undefined;
    const hash = await this.#recordAt(name, version);
    const credential = this.#stamp(this.#proven(verified(hash, secret), secret, ''), version);
    if (credential) this.#cache.rememberBearer(secretHash, credential);
    else this.#cache.forgetBearer(secretHash);
    return credential;
  }

  /**
   * The credential `secret` authenticated as in this process within the cache TTL, with
   * no read at all — stamped (readAt) with the version it was read at, which may no
   * longer be current. Only for a caller whose write checks that version in the same
   * atomic step (the stage script: StageOptions.credentialsVersion), and that answers
   * nothing else on its strength without authenticateBySecret (intake/http/auth.ts).
   */
  recentlyAuthenticated(secret: string): Credential | undefined {
    if (!secret.startsWith('pw_') || secret.length > 200) return undefined;
    return this.#cache.recentBearer<Credential>(hashSecret(secret));
  }

  /** recentlyAuthenticated(secret) answers nothing until the secret authenticates again. */
  forgetRecent(secret: string): void {
    this.#cache.forgetBearer(hashSecret(secret));
  }

  /** Apply a change and bump the version in the same MULTI, so caches see both or neither. */
  async #change(multi: ReturnType<Redis['multi']>): Promise<void> {
    await multi.incr(this.keys.credentialsVersion()).exec();
    this.#cache.clear();
  }

  async #version(): Promise<string> {
    return (await this.redis.get(this.keys.credentialsVersion())) ?? '0';
  }

  /**
   * A credential's hash, from the cache when its version is current. The version is read
   * first on the same connection, so a record read after it is never older than it.
   * When no entry is held the record is read in the same round trip as the version.
   */
  async #record(name: string): Promise<[Record<string, string>, string]> {
    const key = this.keys.credential(name);
    const known = this.#cache.hasRecord(name);
    const [version, fetched] = await Promise.all([
      this.#version(),
      known ? undefined : this.redis.hgetall(key),
    ]);
    return [await this.#recordAt(name, version, fetched), version];
  }

  /** The record under a version already read; `fetched` is a read made after that version. */
  async #recordAt(
    name: string,
    version: string,
    fetched?: Record<string, string>,
  ): Promise<Record<string, string>> {
    const cached = this.#cache.record(name, version);
    if (cached) return cached;
    const hash = fetched ?? (await this.redis.hgetall(this.keys.credential(name)));
    // Unknown names are not cached: SMTP AUTH guesses would only fill memory.
    if (hash.name) this.#cache.rememberRecord(name, version, hash);
    return hash;
  }
}

function provenKey(secret: string, name: string): string {
  return `${name}\n${hashSecret(secret)}`;
}

function verified(hash: Record<string, string>, secret: string): Credential | undefined {
  if (!hash.secretHash || hash.revoked === '1') return undefined;
  if (!secretMatchesHash(secret, hash.secretHash)) return undefined;
  return toCredential(hash);
}
