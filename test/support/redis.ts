import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RedisServer, startRedisServer } from '../../src/runtime/embedded-redis.js';

export interface TestRedis extends RedisServer {
  dir: string;
  /** Start a new redis-server on the same dir/socket (after stop or kill): AOF is replayed. */
  restart(): Promise<TestRedis>;
  /** Stop and delete the temp dir. */
  cleanup(): Promise<void>;
}

/**
 * A throwaway redis-server for one test file: its own temp dir and unix socket,
 * AOF with appendfsync always (the production durability setting). Never the
 * machine's shared Redis.
 */
export async function startTestRedis(
  options: { dir?: string; appendfsync?: 'always' | 'everysec' | 'no'; extraArgs?: string[] } = {},
): Promise<TestRedis> {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'pw-redis-'));
  const server = await startRedisServer({
    dir,
    appendfsync: options.appendfsync ?? 'always',
    extraArgs: options.extraArgs ?? [],
  });
  const testRedis: TestRedis = {
    ...server,
    dir,
    restart: () => startTestRedis({ ...options, dir }),
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return testRedis;
}
