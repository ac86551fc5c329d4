import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** Why an address is on a list: an upstream's permanent refusal, or an operator/API client. */
export type SuppressionSource = 'bounce' | 'manual';

/** One suppressed address of one owner (CONTRACT §Suppressions). */
export interface Suppression {
  /** The owner: a credential's immutable id, or a form principal `form:NAME`. */
  owner: string;
  /** The owner's name when it was added (credential name, or `form:NAME`), for people. */
  credential: string;
  /** As compared: local part as written, domain lower-cased. */
  address: string;
  /** The bounce reply (`550 5.1.1 …`) or `manual`. */
  reason: string;
  source: SuppressionSource;
  /** ISO-8601. */
  at: string;
}

/** A page of a list, in address order; `next` is the cursor of the following page. */
export interface SuppressionPage {
  entries: Suppression[];
  next?: string | undefined;
}

/** The largest page any reader gets: every list read is bounded (CONTRACT: cost must not grow). */
export const MAX_SUPPRESSION_PAGE = 500;

/**
 * The form an address is kept and compared in: the local part as written (RFC 5321 lets a
 * server tell `Bob` from `bob`), the domain lower-cased (domains are case-insensitive).
 */
export function suppressionAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  return `${address.slice(0, at)}${address.slice(at).toLowerCase()}`;
}

const SEPARATOR = '\t';

function pageSize(limit: number | undefined): number {
  return Math.max(1, Math.min(limit ?? 100, MAX_SUPPRESSION_PAGE));
}

function parseEntry(owner: string, raw: string | null | undefined): Suppression | undefined {
  if (!raw) return undefined;
  const stored = JSON.parse(raw) as Omit<Suppression, 'owner'>;
  return { owner, ...stored };
}

/**
 * Suppression lists, one per owner, in Redis (keys in redis/keys.ts): a hash of entries
 * for lookups at delivery (one HMGET per attempt), a lexically ordered index per owner and
 * one across owners for cursor pages (ZRANGEBYLEX: each page costs its size, whatever the
 * list holds), whose ZCARD is the postwarden_suppressions gauge. Each add or remove changes
 * all three in one MULTI, so the count is never off; HSETNX keeps the first entry of an
 * address (its original reason), and ZADD/ZREM of a present/absent member change nothing.
 */
export class SuppressionList {
  readonly #redis: Redis;
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Add an entry; false when the address was already on the owner's list (kept as it was). */
  async add(entry: Suppression): Promise<boolean> {
    const address = suppressionAddress(entry.address);
    const { owner, ...stored } = { ...entry, address };
    const replies = await this.#redis
      .multi()
      .hsetnx(this.#keys.suppressions(owner), address, JSON.stringify(stored))
      .zadd(this.#keys.suppressionIndex(owner), 0, address)
      .zadd(this.#keys.suppressionsAll(), 0, `${owner}${SEPARATOR}${address}`)
      .exec();
    return replies?.[0]?.[1] === 1;
  }

  /** Remove an address; false when it was not on the owner's list. */
  async remove(owner: string, address: string): Promise<boolean> {
    const key = suppressionAddress(address);
    const replies = await this.#redis
      .multi()
      .hdel(this.#keys.suppressions(owner), key)
      .zrem(this.#keys.suppressionIndex(owner), key)
      .zrem(this.#keys.suppressionsAll(), `${owner}${SEPARATOR}${key}`)
      .exec();
    return replies?.[0]?.[1] === 1;
  }

  /** The entries of `addresses` on the owner's list, by the address as given. One HMGET. */
  async lookup(owner: string, addresses: readonly string[]): Promise<Map<string, Suppression>> {
    const found = new Map<string, Suppression>();
    if (addresses.length === 0) return found;
    const values = await this.#redis.hmget(
      this.#keys.suppressions(owner),
      ...addresses.map(suppressionAddress),
    );
    addresses.forEach((address, index) => {
      const entry = parseEntry(owner, values[index]);
      if (entry) found.set(address, entry);
    });
    return found;
  }

  /** One owner's list, a page at a time in address order, after the cursor `after`. */
  async list(owner: string, options: { after?: string; limit?: number } = {}) {
    const members = await this.#page(this.#keys.suppressionIndex(owner), options);
    const values =
      members.length === 0
        ? []
        : await this.#redis.hmget(this.#keys.suppressions(owner), ...members.page);
    return this.#toPage(
      members,
      values.map((raw) => parseEntry(owner, raw)),
    );
  }

  /** Every owner's entries, a page at a time (ordered by owner, then address). */
  async listAll(options: { after?: string; limit?: number } = {}): Promise<SuppressionPage> {
    const members = await this.#page(this.#keys.suppressionsAll(), options);
    const pipeline = this.#redis.pipeline();
    const owners = members.page.map((member) => {
      const [owner = '', address = ''] = member.split(SEPARATOR);
      pipeline.hget(this.#keys.suppressions(owner), address);
      return owner;
    });
    const replies = members.length === 0 ? [] : ((await pipeline.exec()) ?? []);
    return this.#toPage(
      members,
      replies.map(([, raw], index) => parseEntry(owners[index] ?? '', raw as string | null)),
    );
  }

  /** How many entries all lists hold (postwarden_suppressions): one ZCARD. */
  async count(): Promise<number> {
    return this.#redis.zcard(this.#keys.suppressionsAll());
  }

  /** One more than a page, so whether a next page exists is known without another read. */
  async #page(key: string, options: { after?: string; limit?: number }) {
    const size = pageSize(options.limit);
    const from = options.after ? `(${options.after}` : '-';
    const members = await this.#redis.zrangebylex(key, from, '+', 'LIMIT', 0, size + 1);
    const page = members.slice(0, size);
    const more = members.length > size;
    return { page, more, length: page.length };
  }

  #toPage(
    members: { page: string[]; more: boolean },
    entries: (Suppression | undefined)[],
  ): SuppressionPage {
    const present = entries.filter((entry): entry is Suppression => entry !== undefined);
    return members.more ? { entries: present, next: members.page.at(-1) } : { entries: present };
  }
}
