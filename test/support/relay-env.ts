import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RelayPorts {
  http: number;
  smtp: number;
  /** 0 turns SMTPS off. */
  smtps: number;
}

/** A loopback TCP port nothing listens on (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Three distinct free loopback ports for HTTP, SMTP submission and SMTPS. */
export async function freeRelayPorts(): Promise<RelayPorts> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [http = 0, smtp = 0, smtps = 0] = [...ports];
  return { http, smtp, smtps };
}

/** A temp dir (a relay's data dir, for one test file), with its cleanup. */
export function tempDataDir(prefix = 'pw-relay-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Where a spawned relay lives and what it talks to. */
export interface RelaySite {
  dataDir: string;
  ports: RelayPorts;
  /** REDIS_URL; without it the relay starts its embedded Redis in the data dir. */
  redisUrl?: string;
  /** POSTWARDEN_UPSTREAM_URL; without it the relay captures into the data dir. */
  upstreamUrl?: string;
  /** Retries after 200 ms and at most 1 s apart, so a deferral is retried within a test. */
  fastRetry?: boolean;
  adminPassword?: string;
}

/**
 * The one environment builder for a spawned relay (`spawnRelay` adds it to an
 * environment without any of the developer's Postwarden settings): `site`, then `extra`
 * on top for what a test varies.
 */
export function relayEnv(
  site: RelaySite,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    POSTWARDEN_DATA_DIR: site.dataDir,
    POSTWARDEN_HTTP_PORT: String(site.ports.http),
    POSTWARDEN_SMTP_PORT: String(site.ports.smtp),
    POSTWARDEN_SMTPS_PORT: String(site.ports.smtps),
    ...(site.redisUrl ? { REDIS_URL: site.redisUrl } : {}),
    ...(site.upstreamUrl ? { POSTWARDEN_UPSTREAM_URL: site.upstreamUrl } : {}),
    ...(site.fastRetry ? { POSTWARDEN_RETRY_BASE: '200ms', POSTWARDEN_RETRY_MAX_DELAY: '1s' } : {}),
    ...(site.adminPassword ? { POSTWARDEN_ADMIN_PASSWORD: site.adminPassword } : {}),
    ...extra,
  };
}
