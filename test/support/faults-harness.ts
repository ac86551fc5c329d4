import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { bodyOfSize, type Credentials, sendHttp, sendSmtp } from './load-clients.js';
import { startTestRedis, type TestRedis } from './redis.js';
import { freePort, type RelayProcess, spawnRelay, waitForRelay } from './relay-process.js';

export type Role = 'all' | 'intake' | 'worker';

/**
 * One fault-suite world: a throwaway redis-server, a credential, free ports and a data dir,
 * and spawned relays (`node dist/main.js start --role ...`) pointed at `upstreamUrl`.
 * Every relay it starts is killed in `cleanup()`.
 */
export interface FaultWorld {
  redis: TestRedis;
  credentials: Credentials;
  ports: { http: number; smtp: number; smtps: number };
  upstreamUrl: string;
  startRelay(role: Role, extraEnv?: Record<string, string>): Promise<RelayProcess>;
  /** Replace the Redis handle after stop()/kill() + restart(). */
  restartRedis(): Promise<void>;
  /** Send one message whose Subject is `token`; resolves with the ack (HTTP id when 202). */
  send(token: string, protocol: 'smtp' | 'http'): Promise<{ acked: boolean; id?: string }>;
  /** GET /v1/messages/:id with the credential (undefined when unreachable). */
  messageStatus(id: string): Promise<string | undefined>;
  cleanup(): Promise<void>;
}

export async function startFaultWorld(upstreamUrl: string): Promise<FaultWorld> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pw-faults-'));
  const ports = { http: await freePort(), smtp: await freePort(), smtps: await freePort() };
  const relays = new Set<RelayProcess>();
  const world: FaultWorld = {
    redis: await startTestRedis(),
    credentials: { name: '', secret: '' },
    ports,
    upstreamUrl,
    async startRelay(role, extraEnv = {}) {
      const relay = spawnRelay(['start', '--role', role], {
        REDIS_URL: world.redis.url,
        POSTWARDEN_DATA_DIR: dataDir,
        POSTWARDEN_HTTP_PORT: String(ports.http),
        POSTWARDEN_SMTP_PORT: String(ports.smtp),
        POSTWARDEN_SMTPS_PORT: String(ports.smtps),
        POSTWARDEN_UPSTREAM_URL: world.upstreamUrl,
        POSTWARDEN_RETRY_BASE: '200ms',
        POSTWARDEN_RETRY_MAX_DELAY: '1s',
        POSTWARDEN_ADMIN_PASSWORD: 'x',
        LOG_LEVEL: 'warn',
        ...extraEnv,
      });
      relays.add(relay);
      void relay.exited.then(() => relays.delete(relay));
      if (role !== 'worker') {
        await waitForRelay(relay, ports.http);
      }
      return relay;
    },
    async restartRedis() {
      world.redis = await world.redis.restart();
    },
    async send(token, protocol) {
      const mail = {
        from: 'load@example.com',
        to: ['rcpt@example.net'],
        subject: token,
        text: bodyOfSize(2048),
      };
      try {
        if (protocol === 'smtp') {
          const reply = await sendSmtp(ports.smtp, world.credentials, mail);
          return { acked: reply.startsWith('250') };
        }
        const { status, body } = await sendHttp(ports.http, world.credentials, mail);
        return status === 202 ? { acked: true, id: String(body.id) } : { acked: false };
      } catch {
        return { acked: false };
      }
    },
    async messageStatus(id) {
      try {
        const response = await fetch(`http://127.0.0.1:${ports.http}/v1/messages/${id}`, {
          headers: { authorization: `Bearer ${world.credentials.secret}` },
          signal: AbortSignal.timeout(5000),
        });
        if (response.status !== 200) return `http ${response.status}`;
        const body = (await response.json()) as { status?: unknown };
        return String(body.status);
      } catch {
        return undefined;
      }
    },
    async cleanup() {
      await Promise.all([...relays].map((relay) => relay.kill('SIGKILL')));
      await world.redis.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const client = new Redis({ path: world.redis.socket });
  const created = await new CredentialStore(client, createKeys()).create({
    name: 'faults',
    allowFrom: ['*@example.com'],
  });
  client.disconnect();
  world.credentials = { name: 'faults', secret: created.secret };
  return world;
}

/** The `# name: acked N, delivered N, duplicates N, kills N` line every fault test prints. */
export function reportCounts(
  name: string,
  acked: Iterable<string>,
  subjects: Map<string, number>,
  kills: number,
): { acked: number; delivered: number; duplicates: number; missing: string[] } {
  const tokens = [...acked];
  const missing = tokens.filter((token) => !subjects.has(token));
  const duplicates = tokens.reduce(
    (sum, token) => sum + Math.max(0, (subjects.get(token) ?? 0) - 1),
    0,
  );
  const delivered = tokens.length - missing.length;
  console.log(
    `# ${name}: acked ${tokens.length}, delivered ${delivered}, duplicates ${duplicates}, kills ${kills}`,
  );
  return { acked: tokens.length, delivered, duplicates, missing };
}
