import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defineScripts, type LuaScript, runScript } from '../queue/scripts.js';
import { inTransaction } from '../queue/transaction.js';
import type { Keys } from '../redis/keys.js';
import type { WebhookEventType } from './event-types.js';

/** After `rotate`, the previous secret still signs for this long (CONTRACT §Webhooks). */
export const PREVIOUS_SECRET_MS = 24 * 60 * 60 * 1000;
/** Attempts kept per endpoint for the admin page (trimmed at every append). */
export const ATTEMPTS_KEPT = 50;

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** The credential's immutable id (a re-created name is another identity); absent = all. */
  credentialId?: string | undefined;
  /** Its name when added, for display. */
  credentialName?: string | undefined;
  events: WebhookEventType[];
  /** `whsec_` + base64: stored usable, because signing needs it. */
  secret: string;
  /** The secret before the last rotate, and until when (unix ms) it still signs. */
  previousSecret?: string | undefined;
  previousUntil?: number | undefined;
  disabled: boolean;
  disabledReason?: string | undefined;
  createdAt: string;
}

/** One send to an endpoint (admin page): HTTP status or error, latency, the next try. */
export interface WebhookAttempt {
  at: string;
  eventId: string;
  type: string;
  /** 1-based try of this event. */
  attempt: number;
  statusCode?: number | undefined;
  error?: string | undefined;
  latencyMs: number;
  outcome: 'delivered' | 'failed' | 'gave_up' | 'disabled';
  nextRetryAt?: string | undefined;
  /** The payload sent (no content, no secrets), so the admin page can replay it. */
  payload: string;
}

/**
 * webhookWanted — set or drop one endpoint's entry in the enabled-events hash and rewrite
 * the wanted set from the whole hash, atomically: two operators changing endpoints at once
 * can never leave a type out of the set (its events would then silently not be written).
 * KEYS (2): 1 wanted set, 2 enabled-events hash
 * ARGV: 1 endpoint id, 2 its event types as JSON, or '' to drop it (removed or disabled)
 * Returns: the number of wanted types.
 */
const WEBHOOK_WANTED: LuaScript = {
  name: 'pwWebhookWanted',
  numberOfKeys: 2,
  lua: `
if ARGV[2] == '' then redis.call('HDEL', KEYS[2], ARGV[1])
else redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
redis.call('DEL', KEYS[1])
local wanted = {}
for _, events in ipairs(redis.call('HVALS', KEYS[2])) do
  for _, kind in ipairs(cjson.decode(events)) do wanted[kind] = true end
end
local n = 0
for kind in pairs(wanted) do redis.call('SADD', KEYS[1], kind); n = n + 1 end
return n
`,
};

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function toEndpoint(hash: Record<string, string>): WebhookEndpoint | undefined {
  if (!hash.id || !hash.url || !hash.secret) return undefined;
  return {
    id: hash.id,
    url: hash.url,
    credentialId: hash.credentialId || undefined,
    credentialName: hash.credentialName || undefined,
    events: JSON.parse(hash.events ?? '[]') as WebhookEventType[],
    secret: hash.secret,
    previousSecret: hash.previousSecret || undefined,
    previousUntil: hash.previousUntil ? Number(hash.previousUntil) : undefined,
    disabled: hash.disabled === '1',
    disabledReason: hash.disabledReason || undefined,
    createdAt: hash.createdAt ?? '',
  };
}

/**
 * Webhook endpoints in Redis (one hash each, a set of ids) and the set of event types
 * some enabled endpoint wants, which the outbox Lua reads: it is rewritten at every change
 * here, so an event nobody wants is never written. The clock is injectable (rotate's 24 h).
 */
export class WebhookEndpointStore {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #now: () => number;

  constructor(redis: Redis, keys: Keys, now: () => number = Date.now) {
    this.#redis = redis;
    this.#keys = keys;
    this.#now = now;
    defineScripts(redis, WEBHOOK_WANTED);
  }

  async add(input: {
    url: string;
    credential?: { id: string; name: string } | undefined;
    events: readonly WebhookEventType[];
  }): Promise<WebhookEndpoint> {
    const endpoint: WebhookEndpoint = {
      id: `wh_${randomBytes(8).toString('hex')}`,
      url: input.url,
      credentialId: input.credential?.id,
      credentialName: input.credential?.name,
      events: [...input.events],
      secret: newSecret(),
      disabled: false,
      createdAt: new Date(this.#now()).toISOString(),
    };
    const redis = this.#redis;
    await inTransaction(redis, () => [
      redis.hset(this.#keys.webhookEndpoint(endpoint.id), {
        id: endpoint.id,
        url: endpoint.url,
        credentialId: endpoint.credentialId ?? '',
        credentialName: endpoint.credentialName ?? '',
        events: JSON.stringify(endpoint.events),
        secret: endpoint.secret,
        disabled: '0',
        createdAt: endpoint.createdAt,
      }),
      redis.sadd(this.#keys.webhookEndpoints(), endpoint.id),
      this.#wanted(endpoint.id, endpoint.events),
    ]);
    return endpoint;
  }

  async get(id: string): Promise<WebhookEndpoint | undefined> {
    return toEndpoint(await this.#redis.hgetall(this.#keys.webhookEndpoint(id)));
  }

  /** Every endpoint, oldest first (a handful: one SMEMBERS and one HGETALL each, pipelined). */
  async list(): Promise<WebhookEndpoint[]> {
    const ids = await this.#redis.smembers(this.#keys.webhookEndpoints());
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.#keys.webhookEndpoint(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies
      .map(([, hash]) => toEndpoint((hash ?? {}) as Record<string, string>))
      .filter((endpoint): endpoint is WebhookEndpoint => endpoint !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async remove(id: string): Promise<boolean> {
    const redis = this.#redis;
    const [deleted] = await inTransaction(redis, () => [
      redis.del(this.#keys.webhookEndpoint(id)),
      redis.del(this.#keys.webhookAttempts(id)),
      redis.srem(this.#keys.webhookEndpoints(), id),
      this.#wanted(id, undefined),
    ]);
    return deleted === 1;
  }

  /** A new current secret; the old one keeps signing for PREVIOUS_SECRET_MS. */
  async rotate(id: string): Promise<WebhookEndpoint | undefined> {
    const endpoint = await this.get(id);
    if (!endpoint) return undefined;
    const secret = newSecret();
    const previousUntil = this.#now() + PREVIOUS_SECRET_MS;
    await this.#redis.hset(this.#keys.webhookEndpoint(id), {
      secret,
      previousSecret: endpoint.secret,
      previousUntil: String(previousUntil),
    });
    return { ...endpoint, secret, previousSecret: endpoint.secret, previousUntil };
  }

  /** Stop sending to it (a 410 answer): nothing more is queued for it. */
  async disable(id: string, reason: string): Promise<boolean> {
    const key = this.#keys.webhookEndpoint(id);
    if ((await this.#redis.exists(key)) === 0) return false;
    const redis = this.#redis;
    await inTransaction(redis, () => [
      redis.hset(key, { disabled: '1', disabledReason: reason }),
      this.#wanted(id, undefined),
    ]);
    return true;
  }

  /** The secrets that sign now: the current one, and the previous one within its 24 h. */
  signingSecrets(endpoint: WebhookEndpoint): string[] {
    const previous =
      endpoint.previousSecret && (endpoint.previousUntil ?? 0) > this.#now()
        ? [endpoint.previousSecret]
        : [];
    return [endpoint.secret, ...previous];
  }

  async recordAttempt(id: string, attempt: WebhookAttempt): Promise<void> {
    const key = this.#keys.webhookAttempts(id);
    await this.#redis
      .multi()
      .lpush(key, JSON.stringify(attempt))
      .ltrim(key, 0, ATTEMPTS_KEPT - 1)
      .exec();
  }

  async attempts(id: string, limit = 10): Promise<WebhookAttempt[]> {
    const raw = await this.#redis.lrange(this.#keys.webhookAttempts(id), 0, limit - 1);
    return raw.map((line) => JSON.parse(line) as WebhookAttempt);
  }

  /** WEBHOOK_WANTED (sent at once, so it may go inside inTransaction): undefined drops `id`. */
  #wanted(id: string, events: readonly string[] | undefined): Promise<unknown> {
    return runScript(
      this.#redis,
      WEBHOOK_WANTED,
      [this.#keys.webhookWanted(), this.#keys.webhookEnabledEvents()],
      [id, events ? JSON.stringify(events) : ''],
    );
  }
}
