import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { freePort, waitUntil } from '../lib/ports.js';
import { processTree } from '../lib/proc.js';
import { startBenchRedis } from '../lib/redis-server.js';
import type { SystemUnderTest } from './system.js';

/** The compiled relay (`npm run bench` builds it first). */
export const MAIN_JS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/main.js',
);

/**
 * Postwarden as shipped (`node dist/main.js start`, all roles in one process) on a
 * throwaway redis-server with AOF and `appendfsync always` (durability=fsync, the
 * default), relaying to the sink. Its CPU and memory are the relay's process tree plus
 * its redis-server. `nodeArgs` lets the runner add `--cpu-prof` (Node 20 refuses it in
 * NODE_OPTIONS, so the node arguments are ours to give).
 */
export async function startRelay(options: {
  sinkUrl: string;
  tls: { key: string; cert: string };
  nodeArgs?: string[];
  /**
   * `one`: every role in one process (`postwarden`). `split`: intake and worker in two
   * processes (`postwarden-2p`). `intake-first`: as split, but the worker is stopped
   * while the runner measures (`postwarden-intake`), to see what the intake alone does.
   */
  layout?: 'one' | 'split' | 'intake-first';
  /** Extra set-up in the relay's Redis before it starts (bench/forms.ts creates its form). */
  prepare?: (redis: Redis) => Promise<void>;
  /** Extra settings for the relay (bench/memory.ts: POSTWARDEN_MAX_INFLIGHT_BYTES). */
  env?: Record<string, string>;
}): Promise<SystemUnderTest & { redisUrl: string; output(): string }> {
  const layout = options.layout ?? 'one';
  const redisServer = await startBenchRedis();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pw-bench-relay-'));
  const certFile = path.join(dataDir, 'bench-cert.pem');
  const keyFile = path.join(dataDir, 'bench-key.pem');
  writeFileSync(certFile, options.tls.cert);
  writeFileSync(keyFile, options.tls.key, { mode: 0o600 });
  const redis = new Redis({ path: redisServer.socket });
  const name = 'bench';
  const { secret } = await new CredentialStore(redis, createKeys()).create({
    name,
    allowFrom: ['*@example.com'],
    // A benchmark sends far more than the default 1000 an hour: never held by volume.
    holdAbove: 0,
  });
  await options.prepare?.(redis);
  redis.disconnect();
  // Every role listens on HTTP (/healthz, /readyz, /metrics): the worker has its own port.
  const ports = { http: await freePort(), smtp: await freePort(), workerHttp: await freePort() };
  const env = {
    REDIS_URL: redisServer.url,
    POSTWARDEN_DATA_DIR: dataDir,
    POSTWARDEN_HTTP_PORT: String(ports.http),
    POSTWARDEN_SMTP_PORT: String(ports.smtp),
    POSTWARDEN_SMTPS_PORT: '0',
    POSTWARDEN_TLS_CERT: certFile,
    POSTWARDEN_TLS_KEY: keyFile,
    POSTWARDEN_UPSTREAM_URL: options.sinkUrl,
    POSTWARDEN_ADMIN_PASSWORD: 'bench-admin-password',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  // One process with every role (as `npm start` ships), or intake and delivery in two
  // processes on the same Redis (`--role intake` + `--role worker`), which lets delivery
  // use the second core instead of sharing the intake's event loop.
  const start = (args: string[], extraEnv: Record<string, string> = {}) =>
    startChild({ ...env, ...extraEnv }, [...(options.nodeArgs ?? []), MAIN_JS, 'start', ...args]);
  const startWorker = () =>
    start(['--role', 'worker'], { POSTWARDEN_HTTP_PORT: String(ports.workerHttp) });
  const children = layout === 'one' ? [start([])] : [start(['--role', 'intake'])];
  let worker = layout === 'one' ? undefined : startWorker();
  const running = () => (worker ? [...children, worker] : children);
  const relay = {
    output: () =>
      running()
        .map((child) => child.output())
        .join('\n'),
    kill: (signal: NodeJS.Signals) => Promise.all(running().map((child) => child.kill(signal))),
  };
  const cleanup = async () => {
    await relay.kill('SIGTERM');
    await redisServer.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntil(() => isReady(ports.http), 30_000, `the relay on port ${ports.http}`);
  } catch (error) {
    const output = relay.output();
    await cleanup();
    throw new Error(`${(error as Error).message}\n${output.slice(-2000)}`);
  }
  const redisPid = redisServer.pid ?? 0;
  // A graceful stop finishes the deliveries in flight; a new worker picks up the backlog.
  const deliveryHold =
    layout === 'intake-first'
      ? {
          async holdDelivery() {
            await worker?.kill('SIGTERM');
            worker = undefined;
          },
          async releaseDelivery() {
            worker ??= startWorker();
          },
        }
      : {};
  return {
    name: SYSTEM_NAMES[layout],
    redisUrl: redisServer.url,
    output: relay.output,
    smtpPort: ports.smtp,
    httpPort: ports.http,
    user: name,
    password: secret,
    pids: () => [...running().flatMap((child) => processTree(child.pid)), redisPid],
    stop: cleanup,
    ...deliveryHold,
  };
}

const SYSTEM_NAMES = {
  one: 'postwarden',
  split: 'postwarden-2p',
  'intake-first': 'postwarden-intake',
} as const;

/** Whether the relay's `GET /readyz` answers 200. */
async function isReady(httpPort: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** Our environment minus everything Postwarden reads (a developer's own settings), plus `env`. */
function relayChildEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'REDIS_URL' || name === 'LOG_LEVEL' || name.startsWith('POSTWARDEN_')) continue;
    base[name] = value;
  }
  return { ...base, ...env };
}

/** One relay process, its last output kept for error messages. */
export function startChild(env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, args, {
    env: relayChildEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid ?? 0,
    output: () => output,
    async kill(signal: NodeJS.Signals) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
