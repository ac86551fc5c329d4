import type { Redis } from 'ioredis';

export type DurabilityMode = 'fsync' | 'replicated' | 'memory';

export interface DurabilityState {
  /** true when an accept may be acknowledged under the configured mode. */
  ok: boolean;
  /** Why not, in words an operator can act on. */
  reason: string;
  /** Redis ≥ 7.2 with AOF but not `appendfsync always`: confirm each accept with WAITAOF. */
  useWaitAof: boolean;
  /** maxmemory-policy is noeviction (anything else may silently drop queued mail). */
  noeviction: boolean;
  /** `replicated`: replicas each accept must reach (WAIT) before it is acknowledged; else 0. */
  waitReplicas: number;
  /** `replicated`: replicas connected and in sync now (for /readyz); undefined otherwise. */
  replicas?: number | undefined;
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  const reply = (await redis.config('GET', name)) as string[];
  return reply[1];
}

/**
 * Reads what the contract needs from Redis: AOF with `appendfsync always` (or WAITAOF on
 * ≥ 7.2) for `fsync`, and `noeviction` always. A Redis that refuses CONFIG (managed
 * services) is judged from INFO; `fsync` then needs WAITAOF.
 */
export async function checkDurability(
  redis: Redis,
  mode: DurabilityMode,
  minReplicas = 1,
): Promise<DurabilityState> {
  const local = await checkPrimary(redis, mode === 'replicated' ? 'fsync' : mode);
  if (mode !== 'replicated' || !local.ok) return local;
  const replicas = onlineReplicas(await redis.info('replication'));
  if (replicas < minReplicas) {
    return {
      ...local,
      ok: false,
      replicas,
      reason: `${replicas} replica(s) connected to the primary; POSTWARDEN_DURABILITY=replicated needs POSTWARDEN_MIN_REPLICAS=${minReplicas}`,
    };
  }
  return {
    ...local,
    waitReplicas: minReplicas,
    replicas,
    reason: `${local.reason}; each accept confirmed by WAIT from ${minReplicas} of ${replicas} replica(s)`,
  };
}

/** Replicas the primary reports in sync (`slaveN:…,state=online,…` in INFO replication). */
export function onlineReplicas(info: string): number {
  return info.split(/\r?\n/).filter((line) => /^slave\d+:.*\bstate=online\b/.test(line)).length;
}

/** The primary's own settings: AOF/appendfsync (or WAITAOF) for `fsync`, noeviction always. */
async function checkPrimary(redis: Redis, mode: 'fsync' | 'memory'): Promise<DurabilityState> {
  const info = await redis.info('server');
  const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? '0.0.0';
  let appendonly: string | undefined;
  let appendfsync: string | undefined;
  let policy: string | undefined;
  try {
    appendonly = await configGet(redis, 'appendonly');
    appendfsync = await configGet(redis, 'appendfsync');
    policy = await configGet(redis, 'maxmemory-policy');
  } catch {
    const persistence = await redis.info('persistence');
    appendonly = /aof_enabled:1/.test(persistence) ? 'yes' : 'no';
    const memory = await redis.info('memory');
    policy = /maxmemory_policy:(\S+)/.exec(memory)?.[1];
  }
  const noeviction = policy === undefined || policy === 'noeviction';
  if (!noeviction) {
    return {
      ok: false,
      reason: `Redis maxmemory-policy is ${policy}; set it to noeviction or queued mail can be evicted`,
      useWaitAof: false,
      noeviction,
      waitReplicas: 0,
    };
  }
  if (mode === 'memory')
    return {
      ok: true,
      reason: 'durability=memory',
      useWaitAof: false,
      noeviction,
      waitReplicas: 0,
    };
  if (appendonly === 'yes' && appendfsync === 'always') {
    return {
      ok: true,
      reason: 'AOF with appendfsync always',
      useWaitAof: false,
      noeviction,
      waitReplicas: 0,
    };
  }
  if (appendonly === 'yes' && versionAtLeast(version, 7, 2)) {
    return {
      ok: true,
      reason: 'AOF confirmed per accept by WAITAOF',
      useWaitAof: true,
      noeviction,
      waitReplicas: 0,
    };
  }
  return {
    ok: false,
    reason: `Redis ${version} has appendonly=${appendonly ?? '?'} appendfsync=${appendfsync ?? '?'}; POSTWARDEN_DURABILITY=fsync needs appendonly yes with appendfsync always (or Redis >= 7.2 for WAITAOF), or set POSTWARDEN_DURABILITY=memory`,
    useWaitAof: false,
    noeviction,
    waitReplicas: 0,
  };
}

/**
 * Re-checks durability every `intervalMs` (the contract says at least every 10 s) and
 * keeps the last verdict, so the accept path and /readyz read it without a round trip.
 */
export class DurabilityMonitor {
  #state: DurabilityState = {
    ok: false,
    reason: 'not checked yet',
    useWaitAof: false,
    noeviction: true,
    waitReplicas: 0,
  };
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly mode: DurabilityMode,
    private readonly intervalMs = 5000,
    private readonly minReplicas = 1,
  ) {}

  get state(): DurabilityState {
    if (this.redis.status !== 'ready') {
      return { ...this.#state, ok: false, reason: `Redis connection is ${this.redis.status}` };
    }
    return this.#state;
  }

  async refresh(): Promise<DurabilityState> {
    try {
      this.#state = await checkDurability(this.redis, this.mode, this.minReplicas);
    } catch (error) {
      this.#state = {
        ...this.#state,
        ok: false,
        reason: `cannot read Redis settings: ${(error as Error).message}`,
      };
    }
    return this.state;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.#timer.unref();
    // Re-check at once when the connection comes back, so acceptance resumes quickly.
    this.redis.on('ready', this.#onReady);
  }

  #onReady = () => void this.refresh();

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.redis.off('ready', this.#onReady);
  }
}
