import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { PostwardenError } from '../errors.js';

export interface RedisServerOptions {
  /** Directory for the AOF, pid file, log and (by default) the socket. */
  dir: string;
  /** Unix socket path; defaults to `<dir>/redis.sock`. */
  socket?: string;
  /** Also listen on TCP 127.0.0.1:port (tests that need a TCP URL); 0 = no TCP. */
  tcpPort?: number;
  appendfsync?: 'always' | 'everysec' | 'no';
  appendonly?: boolean;
  extraArgs?: string[];
}

export interface RedisServer {
  /** A REDIS_URL for this server: the socket path (or redis://127.0.0.1:port). */
  url: string;
  socket: string;
  pid: number | undefined;
  /** false when an already-running server on the socket was adopted instead of started. */
  started: boolean;
  /** SHUTDOWN (AOF is already on disk with appendfsync always), then wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL, for crash tests. */
  kill(): Promise<void>;
}

export const REDIS_MISSING_MESSAGE =
  'Postwarden needs Redis. No REDIS_URL is set, so it tried to start an embedded Redis, but ' +
  'the redis-server program was not found on PATH. Install it (Debian/Ubuntu: ' +
  '`sudo apt-get install redis-server`; macOS: `brew install redis`) and run `npm start` ' +
  'again, or point REDIS_URL at a Redis you run (redis://host:6379 or a unix socket path) ' +
  'configured with appendonly yes, appendfsync always and maxmemory-policy noeviction.';

export function findRedisServer(): string | undefined {
  const result = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const found = result.stdout.trim();
  if (found) return found;
  for (const candidate of [
    '/usr/bin/redis-server',
    '/usr/local/bin/redis-server',
    '/usr/sbin/redis-server',
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * One command on a short-lived connection to the socket, without retries: `fallback` when
 * nothing answers there (no server, or not ours to reach).
 */
async function once<T>(socket: string, command: (client: Redis) => Promise<T>, fallback: () => T) {
  const client = new Redis({
    path: socket,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await command(client);
  } catch {
    return fallback();
  } finally {
    client.disconnect();
  }
}

function ping(socket: string): Promise<boolean> {
  return once(
    socket,
    async (client) => (await client.ping()) === 'PONG',
    () => false,
  );
}

function readPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, 'redis.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new PostwardenError('redis_start_failed', `${what} within ${timeoutMs} ms`);
}

/**
 * Start (or adopt) a redis-server child with its data and unix socket under `dir`.
 * If a previous run was killed and left its Redis running on the same socket, that
 * Redis is adopted rather than started twice over one AOF file.
 */
/**
 * The data dir must be ours and closed (0700), and a socket in it ours too, before we
 * start a Redis there or adopt one that answers: otherwise another local user could have
 * put a Redis of theirs behind our socket path and read or feed the queue. A dir we own
 * is tightened to 0700; anything else stops start-up.
 */
function ensurePrivate(dir: string, socket: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return; // Windows: no owners or modes to check.
  const stats = statSync(dir);
  if (stats.uid !== uid) {
    throw new PostwardenError(
      'unsafe_redis_dir',
      `the embedded Redis directory ${dir} belongs to another user (uid ${stats.uid}); use a data dir of your own (POSTWARDEN_DATA_DIR)`,
    );
  }
  if ((stats.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  if (existsSync(socket) && lstatSync(socket).uid !== uid) {
    throw new PostwardenError(
      'unsafe_redis_dir',
      `the Redis socket ${socket} belongs to another user; refusing to use it (remove it, or use another POSTWARDEN_DATA_DIR)`,
    );
  }
}

export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  const binary = findRedisServer();
  if (!binary) throw new PostwardenError('redis_missing', REDIS_MISSING_MESSAGE);
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const socket = options.socket ?? path.join(options.dir, 'redis.sock');
  ensurePrivate(options.dir, socket);
  const tcpPort = options.tcpPort ?? 0;
  const url = tcpPort ? `redis://127.0.0.1:${tcpPort}` : socket;

  let child: ChildProcess | undefined;
  if (!(await ping(socket))) {
    const args = [
      '--port',
      String(tcpPort),
      '--bind',
      '127.0.0.1',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      options.dir,
      '--pidfile',
      path.join(options.dir, 'redis.pid'),
      '--logfile',
      path.join(options.dir, 'redis.log'),
      '--appendonly',
      options.appendonly === false ? 'no' : 'yes',
      '--appendfsync',
      options.appendfsync ?? 'always',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      // A message record with a subject or From: over 64 bytes (most) would leave the compact
      // listpack encoding at the default: ~2.6 KB per retained message instead of ~1.7 KB.
      '--hash-max-listpack-value',
      '1024',
      '--protected-mode',
      'yes',
      ...(options.extraArgs ?? []),
    ];
    child = spawn(binary, args, { stdio: 'ignore', detached: false });
    const exited = new Promise<never>((_, reject) =>
      child?.once('exit', (code) =>
        reject(
          new PostwardenError(
            'redis_start_failed',
            `redis-server exited with code ${code}; see ${path.join(options.dir, 'redis.log')}`,
          ),
        ),
      ),
    );
    exited.catch(() => {});
    await Promise.race([
      waitFor(() => ping(socket), 15_000, 'embedded Redis did not answer'),
      exited,
    ]);
  }
  const pid = child?.pid ?? readPid(options.dir);

  const waitExit = async (timeoutMs: number) =>
    waitFor(
      () => !isAlive(pid) || (child?.exitCode !== null && child?.exitCode !== undefined),
      timeoutMs,
      'redis-server did not exit',
    );

  return {
    url,
    socket,
    pid,
    started: child !== undefined,
    async stop() {
      if (!isAlive(pid)) return;
      await once(
        socket,
        async (client) => {
          await client.call('SHUTDOWN').catch(() => {});
        },
        () => {
          if (pid) process.kill(pid, 'SIGTERM');
        },
      );
      await waitExit(10_000).catch(() => {
        if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
      });
    },
    async kill() {
      if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
      await waitExit(5_000).catch(() => {});
    },
  };
}
