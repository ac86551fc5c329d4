import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RedisServer, startRedisServer } from '../../src/runtime/embedded-redis.js';

/**
 * A throwaway redis-server in a temp dir of its own, AOF with appendfsync always (the
 * relay's default durability, so the figures are the shipped ones); `cleanup` stops it
 * and deletes the dir.
 */
export async function startBenchRedis(): Promise<RedisServer & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pw-bench-redis-'));
  const server = await startRedisServer({ dir, appendfsync: 'always' });
  return {
    ...server,
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
