import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore, type NewCredential } from '../../src/security/credentials/store.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { startTestRedis, type TestRedis } from './redis.js';
import {
  freeRelayPorts,
  type RelayPorts,
  type RelaySite,
  relayEnv,
  tempDataDir,
} from './relay-env.js';
import { type RelayProcess, spawnRelay, waitForRelay } from './relay-process.js';

export interface RelayHarness {
  ports: RelayPorts;
  redisServer: TestRedis;
  /** A direct connection to the relay's Redis (default key prefix), for assertions. */
  redis: Redis;
  credentials: CredentialStore;
  sink: FakeUpstream;
  relay: RelayProcess;
  /** Where the relay lives and what it talks to (for a second relay beside it). */
  site: RelaySite;
  /** The relay's environment (for CLI commands against it). */
  env: Record<string, string>;
  createCredential(input: NewCredential): Promise<{ name: string; secret: string }>;
  /** Number of messages in the relay's index (everything ever queued). */
  queuedCount(): Promise<number>;
  /** Where any of `secrets` appears: the relay's output (logs) or any Redis value or key. */
  findSecrets(secrets: string[]): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A spawned relay (`node dist/main.js start`) on its own throwaway Redis, relaying to a
 * plain fake upstream (the sink): tests talk to it only through its sockets, as an outsider
 * would.
 */
export async function startRelayHarness(
  extraEnv: Record<string, string> = {},
): Promise<RelayHarness> {
  const redisServer = await startTestRedis();
  const sink = await startFakeUpstream({ mode: 'plain' });
  const data = tempDataDir('pw-harness-');
  const ports = await freeRelayPorts();
  const site: RelaySite = {
    dataDir: data.dir,
    ports,
    redisUrl: redisServer.url,
    upstreamUrl: sink.url,
    adminPassword: 'harness-admin-password',
  };
  const env = relayEnv(site, extraEnv);
  const relay = spawnRelay(['start'], env);
  await waitForRelay(relay, ports.http);
  const redis = new Redis({ path: redisServer.socket });
  const keys = createKeys();
  const credentials = new CredentialStore(redis, keys);
  return {
    ports,
    redisServer,
    redis,
    credentials,
    sink,
    relay,
    site,
    env,
    async createCredential(input) {
      const { secret } = await credentials.create(input);
      return { name: input.name, secret };
    },
    queuedCount: () => redis.zcard(keys.messageIndex()),
    async findSecrets(secrets) {
      const found: string[] = [];
      const output = relay.output();
      for (const secret of secrets)
        if (output.includes(secret)) found.push(`relay output contains ${secret.slice(0, 6)}…`);
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'COUNT', 500);
        cursor = next;
        for (const key of batch) {
          const text = `${key}\n${await readAnyValue(redis, key)}`;
          for (const secret of secrets) if (text.includes(secret)) found.push(`redis key ${key}`);
        }
      } while (cursor !== '0');
      return found;
    },
    async stop() {
      await relay.kill('SIGTERM');
      redis.disconnect();
      await sink.close();
      await redisServer.cleanup();
      data.remove();
    },
  };
}

/** A key's whole value as text, whatever its type (DUMP would hide LZF-compressed strings). */
async function readAnyValue(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  if (type === 'string') return (await redis.getBuffer(key))?.toString('latin1') ?? '';
  if (type === 'hash') return JSON.stringify(await redis.hgetall(key));
  if (type === 'list') return (await redis.lrange(key, 0, -1)).join('\n');
  if (type === 'set') return (await redis.smembers(key)).join('\n');
  if (type === 'zset') return (await redis.zrange(key, '0', '-1')).join('\n');
  if (type === 'stream') return JSON.stringify(await redis.xrange(key, '-', '+'));
  return '';
}
