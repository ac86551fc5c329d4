import { startHelper } from '../lib/helper-process.js';
import { startBenchRedis } from '../lib/redis-server.js';
import type { SystemUnderTest } from './system.js';

/** The bare fastify + LPUSH route (procs/ceiling.ts) on its own fsync-always Redis. */
export async function startCeiling(): Promise<SystemUnderTest> {
  const redisServer = await startBenchRedis();
  const helper = await startHelper<{ port: number }>('ceiling', { socket: redisServer.socket });
  const redisPid = redisServer.pid ?? 0;
  return {
    name: 'ceiling',
    httpPort: helper.ready.port,
    user: 'ceiling',
    password: 'unused',
    pids: () => [helper.pid, redisPid],
    async stop() {
      await helper.stop();
      await redisServer.cleanup();
    },
  };
}
