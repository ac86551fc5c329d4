import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { AcceptDeps } from '../intake/accept.js';
import { MailQueue } from '../queue/mail-queue.js';
import { MessageStore } from '../queue/message-store.js';
import { Staging } from '../queue/staging.js';
import { closeRedis, createRedis, waitForReady } from '../redis/connections.js';
import { DurabilityMonitor } from '../redis/durability.js';
import { createKeys, type Keys } from '../redis/keys.js';
import { AbuseGuard } from '../security/abuse-guard.js';
import { CredentialStore } from '../security/credentials/store.js';
import { CredentialRateLimiter } from '../security/rate-limit.js';

/**
 * The Redis-backed services every role and every CLI command shares, built on one
 * fail-fast producer connection. Built by runtime/boot (server) and cli (management).
 */
export interface Services {
  redisUrl: string;
  redis: Redis;
  keys: Keys;
  store: MessageStore;
  queue: MailQueue;
  durability: DurabilityMonitor;
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  rateLimiter: CredentialRateLimiter;
  accept: AcceptDeps;
  close(): Promise<void>;
}

export async function createServices(
  config: Readonly<Config>,
  redisUrl: string,
  logger: Logger,
  options: {
    keyPrefix?: string;
    connectTimeoutMs?: number;
    onAuthFailure?: (protocol: 'smtp' | 'http' | 'admin') => void;
  } = {},
): Promise<Services> {
  const redis = createRedis(redisUrl, 'producer', 'intake');
  redis.on('error', () => {
    // Connection errors surface as failed commands (451/503) and in /readyz.
  });
  await waitForReady(redis, options.connectTimeoutMs ?? 10_000);
  const keys = createKeys(options.keyPrefix);
  const store = new MessageStore(redis, keys);
  const queue = new MailQueue(redis, keys);
  const durability = new DurabilityMonitor(redis, config.durability);
  await durability.refresh();
  const credentials = new CredentialStore(redis, keys);
  const abuseGuard = new AbuseGuard(redis, keys, logger, {
    trustedNetworks: config.trustedNetworks,
    onFailure: options.onAuthFailure,
  });
  const rateLimiter = new CredentialRateLimiter(redis, keys);
  const accept: AcceptDeps = {
    staging: new Staging(redis, keys, queue),
    durability,
    rateLimiter,
    limits: { maxRecipients: config.maxRecipients, maxMessageBytes: config.maxMessageBytes },
    logger,
  };
  let closed = false;
  return {
    redisUrl,
    redis,
    keys,
    store,
    queue,
    durability,
    credentials,
    abuseGuard,
    rateLimiter,
    accept,
    async close() {
      if (closed) return;
      closed = true;
      durability.close();
      await queue.close();
      await closeRedis(redis);
    },
  };
}
