import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type RedisServer, startRedisServer } from '../../src/runtime/embedded-redis.js';
import { freePort } from './relay-env.js';
import { waitUntil } from './wait-until.js';

export const MASTER_NAME = 'pwmaster';

/** One Redis node of the group: its TCP port survives restarts (Sentinel knows it by it). */
export interface RedisNode {
  port: number;
  server: RedisServer;
  /** Start it again on the same port and dir (after a kill): AOF replayed. */
  restart(): Promise<void>;
}

export interface SentinelGroup {
  primary: RedisNode;
  replica: RedisNode;
  /** Every Redis node: the primary first, then the replicas. */
  nodes: RedisNode[];
  sentinelPorts: number[];
  /** REDIS_URL for Postwarden: `redis+sentinel://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c/NAME`. */
  url: string;
  /** The port of the node the sentinels call primary now. */
  primaryPort(): Promise<number>;
  /** Online replicas the node on `port` reports. */
  onlineReplicas(port: number): Promise<number>;
  /** Sentinels that list a healthy, linked replica of `port` (one they could promote). */
  sentinelsWithPromotableReplica(port: number): Promise<number>;
  stop(): Promise<void>;
}

async function startNode(dir: string, port: number, replicaOf?: number): Promise<RedisNode> {
  const args = replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)];
  const start = () =>
    startRedisServer({ dir, tcpPort: port, appendfsync: 'always', extraArgs: args });
  const node: RedisNode = {
    port,
    server: await start(),
    async restart() {
      node.server = await start();
    },
  };
  return node;
}

async function ask<T>(port: number, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await work(client);
  } finally {
    client.disconnect();
  }
}

/**
 * Real Redis Sentinel on loopback, from Debian's redis-server (`--sentinel`): a primary,
 * one replica or more (AOF, appendfsync always, like production) and three sentinels with
 * a quorum of two that notice a dead primary after one second.
 */
export async function startSentinelGroup(
  options: { replicas?: number } = {},
): Promise<SentinelGroup> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pw-sentinel-'));
  const primary = await startNode(path.join(root, 'primary'), await freePort());
  const replicas: RedisNode[] = [];
  for (let i = 0; i < (options.replicas ?? 1); i++) {
    replicas.push(await startNode(path.join(root, `replica-${i}`), await freePort(), primary.port));
  }
  const [replica] = replicas;
  if (!replica) throw new Error('a Sentinel group needs a replica');
  const sentinels: ChildProcess[] = [];
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const file = path.join(root, `sentinel-${i}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${root}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 4000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' }));
    sentinelPorts.push(port);
  }
  const group: SentinelGroup = {
    primary,
    replica,
    nodes: [primary, ...replicas],
    sentinelPorts,
    url: `redis+sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')}/${MASTER_NAME}`,
    async primaryPort() {
      const [, port] = (await ask(sentinelPorts[0] ?? 0, (client) =>
        client.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME),
      )) as [string, string];
      return Number(port);
    },
    onlineReplicas: (port) =>
      ask(port, async (client) => {
        const info = await client.info('replication');
        return info.split(/\r?\n/).filter((line) => /^slave\d+:.*state=online/.test(line)).length;
      }).catch(() => 0),
    async sentinelsWithPromotableReplica(port) {
      let ready = 0;
      for (const sentinelPort of sentinelPorts) {
        const listed = (await ask(sentinelPort, (client) =>
          client.call('SENTINEL', 'replicas', MASTER_NAME),
        ).catch(() => [])) as string[][];
        const promotable = listed.some((fields) => {
          const field = (name: string) => fields[fields.indexOf(name) + 1];
          return (
            field('master-port') === String(port) &&
            field('flags') === 'slave' &&
            field('master-link-status') === 'ok'
          );
        });
        if (promotable) ready += 1;
      }
      return ready;
    },
    async stop() {
      for (const sentinel of sentinels) sentinel.kill('SIGKILL');
      await Promise.all(group.nodes.map((node) => node.server.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  // Every sentinel knows the replica, and the replica is in sync, before a test begins.
  await waitUntil(
    async () => {
      if ((await group.onlineReplicas(primary.port)) < replicas.length) return false;
      for (const port of sentinelPorts) {
        const known = (await ask(port, (client) =>
          client.call('SENTINEL', 'replicas', MASTER_NAME),
        ).catch(() => [])) as unknown[];
        if (known.length < replicas.length) return false;
      }
      return true;
    },
    20_000,
    'the sentinels to see the replica',
    100,
  );
  return group;
}
