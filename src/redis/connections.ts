import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis has two personalities (ARCHITECTURE §10):
 * - the producer (intake) connection fails fast, so an outage becomes a 451/503 at once
 *   instead of a client hanging on a queued command;
 * - worker connections wait forever (BullMQ requires maxRetriesPerRequest: null).
 */
export type RedisRole = 'producer' | 'worker';

const PRODUCER_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 4000,
  connectTimeout: 3000,
  // Keep trying to come back; each failed command is answered at once meanwhile.
  retryStrategy: (times) => Math.min(100 * times, 1000),
  // A command unanswered when the connection dropped has already been refused to the
  // client (451/503); replaying it after the reconnect would queue a message the client
  // was told was refused (a duplicate once it retries), or replay part of a MULTI.
  autoResendUnfulfilledCommands: false,
};

const WORKER_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: null,
  enableOfflineQueue: true,
  connectTimeout: 5000,
  retryStrategy: (times) => Math.min(100 * times, 2000),
};

/**
 * `redis+sentinel://[:password@]host:port[,host:port…]/MASTER` → ioredis's own Sentinel
 * options: it asks the sentinels for the current primary, and again after every
 * disconnect, so a failover is followed without a restart. The password is the primary's
 * (and its replicas'); sentinels are asked without one.
 */
export function sentinelOptionsFromUrl(url: string): RedisOptions | undefined {
  const match = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^@/]+)\/([A-Za-z0-9._-]+)$/.exec(url);
  if (!match) return undefined;
  const [, auth, hosts = '', name] = match;
  const sentinels = hosts.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    return {
      host: entry.slice(0, at).replace(/^\[(.*)\]$/, '$1'),
      port: Number(entry.slice(at + 1)),
    };
  });
  const password = auth ? decodeURIComponent(auth.replace(/^[^:]*:/, '')) : '';
  // No `failoverDetector`. In ioredis 6.0.0 a +switch-master announced while a reconnect
  // is still asking the sentinels (the usual moment: the primary just died) disconnects
  // the connector mid-connect, and ioredis then ends the connection for good: every later
  // command fails "Connection is closed." (seen in test/faults/sentinel-failover.test.ts
  // on a loaded machine: both workers stopped delivering). Without it nothing is missed:
  // a dead primary drops its sockets, and a primary demoted by a failover closes its
  // clients' connections (Redis ≥ 2.8.12), so the normal reconnect asks the sentinels.
  return { sentinels, name, ...(password ? { password } : {}) };
}

/** `redis://…`, `rediss://…`, `redis+sentinel://…`, or a unix socket path → connection options. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const sentinel = sentinelOptionsFromUrl(url);
  if (sentinel) return sentinel;
  if (url.startsWith('/') || url.startsWith('.')) return { path: url };
  if (url.startsWith('unix://')) return { path: url.slice('unix://'.length) };
  const parsed = new URL(url);
  const options: RedisOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db) options.db = Number(db);
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

export function createRedis(url: string, role: RedisRole, name: string): Redis {
  const base = role === 'producer' ? PRODUCER_OPTIONS : WORKER_OPTIONS;
  const redis = new Redis({
    ...redisOptionsFromUrl(url),
    ...base,
    connectionName: `postwarden:${name}`,
  });
  reviveWhenEnded(redis);
  return redis;
}

/** Connections closeRedis was asked to close: the only ones that may stay ended. */
const closedOnPurpose = new WeakSet<Redis>();
/** How soon an ended connection is connected again (and again, while that fails). */
export const REVIVE_DELAY_MS = 1000;

/**
 * A relay process lives for months on its few connections, so one must never end while
 * the process still needs it. ioredis ends a connection, never to retry, whenever one
 * connect attempt is interrupted (a disconnect during the sentinel lookup; see above);
 * its retryStrategy only covers a connection that was up. So an ended connection that
 * closeRedis did not close is connected again, every REVIVE_DELAY_MS until it is up.
 */
function reviveWhenEnded(redis: Redis): void {
  // Whoever calls disconnect() or quit() means it (closeRedis, a test, BullMQ closing a
  // connection it was given): those ends are final. ioredis's own ends go through neither.
  const disconnect = redis.disconnect.bind(redis);
  redis.disconnect = (reconnect = false) => {
    if (!reconnect) closedOnPurpose.add(redis);
    disconnect(reconnect);
  };
  const quit = redis.quit.bind(redis);
  redis.quit = ((...args: Parameters<Redis['quit']>) => {
    closedOnPurpose.add(redis);
    return quit(...args);
  }) as Redis['quit'];
  redis.on('end', () => {
    if (closedOnPurpose.has(redis)) return;
    const timer = setTimeout(() => {
      if (closedOnPurpose.has(redis) || redis.status !== 'end') return;
      // A failure ends it again, which comes back here.
      redis.connect().catch(() => {});
    }, REVIVE_DELAY_MS);
    timer.unref();
  });
}

/** Wait until a connection is ready, or fail after `timeoutMs`. */
export async function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Close a connection without throwing: QUIT when possible, disconnect otherwise. */
export async function closeRedis(redis: Redis): Promise<void> {
  closedOnPurpose.add(redis);
  if (redis.status === 'end') return;
  try {
    if (redis.status === 'ready') {
      await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
  } catch {
    // The connection is going away either way.
  }
  redis.disconnect();
}
