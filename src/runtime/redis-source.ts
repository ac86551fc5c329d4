import path from 'node:path';
import type { Config } from '../config/load.js';
import { type RedisServer, startRedisServer } from './embedded-redis.js';

export interface RedisSource {
  url: string;
  /** The embedded redis-server this process started or adopted (undefined for REDIS_URL). */
  embedded: RedisServer | undefined;
}

export function embeddedRedisDir(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'redis');
}

/**
 * REDIS_URL when set; otherwise the embedded Redis under the data dir (unix socket only,
 * AOF with appendfsync always), started — or adopted when already running, which is how
 * management commands reach the server's Redis.
 */
export async function resolveRedis(
  config: Pick<Config, 'redisUrl' | 'dataDir'>,
): Promise<RedisSource> {
  if (config.redisUrl) return { url: config.redisUrl, embedded: undefined };
  const embedded = await startRedisServer({ dir: embeddedRedisDir(config) });
  return { url: embedded.url, embedded };
}
