import type { Helper } from './lib/helper-process.js';
import { loadAverage } from './lib/proc.js';
import { startSampler } from './lib/sampler.js';
import type { LoadSummary } from './load/summary.js';
import type { Cell } from './report.js';
import type { SystemUnderTest } from './systems/system.js';

export interface Scenario {
  id: string;
  kind: 'smtp' | 'http';
  mode?: 'persistent' | 'per-connection';
  bytes: number;
  systems: string[];
  /** HTTP only: another route than POST /v1/messages (a compatible dialect) and its success status. */
  path?: string;
  okStatus?: number;
}

export interface Sink {
  port: number;
  url: string;
  helper: Helper<unknown>;
}

export interface CellOptions {
  scenario: Scenario;
  system: SystemUnderTest;
  sink: Sink;
  generator: Helper<unknown>;
  repetition: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
}

const DRAIN_TIMEOUT_MS = 120_000;

/** IPC carries JSON, where NaN became null. */
const num = (value: number | null) => (typeof value === 'number' ? value : Number.NaN);

function load(options: CellOptions, durationMs: number, tag: string): Promise<LoadSummary> {
  const { scenario, system, generator, connections } = options;
  const timeout = durationMs + 120_000;
  if (scenario.kind === 'http') {
    return generator.request<LoadSummary>(
      'http',
      {
        port: system.httpPort,
        path: scenario.path ?? '/v1/messages',
        ...(scenario.okStatus ? { okStatus: scenario.okStatus } : {}),
        token: system.password,
        concurrency: connections,
        messageBytes: scenario.bytes,
        durationMs,
        tag,
      },
      timeout,
    );
  }
  return generator.request<LoadSummary>(
    'smtp',
    {
      port: system.smtpPort,
      user: system.user,
      password: system.password,
      connections,
      messageBytes: scenario.bytes,
      mode: scenario.mode ?? 'persistent',
      durationMs,
      tag,
    },
    timeout,
  );
}

async function drain(sink: Sink, tag: string, count: number) {
  return sink.helper.request<{ count: number; reachedAt: number }>(
    'waitFor',
    { tag, count, timeoutMs: DRAIN_TIMEOUT_MS },
    DRAIN_TIMEOUT_MS + 10_000,
  );
}

/**
 * One measurement: warm the system up (unmeasured; its mail drained and forgotten),
 * then load it for `seconds` while sampling its processes, and wait until the sink
 * holds every accepted message. CPU counts from the start of the load to the drain, so
 * delivery work is included for both systems.
 */
export async function runCell(options: CellOptions): Promise<Cell> {
  const { scenario, system, sink, repetition } = options;
  const delivers = system.name !== 'ceiling';
  const tag = `r${repetition}-${scenario.id}-${system.name}`;
  if (options.warmupSeconds > 0) {
    const warm = await load(options, options.warmupSeconds * 1000, `${tag}-warm`);
    if (delivers) await drain(sink, `${tag}-warm`, warm.accepted);
  }
  await system.holdDelivery?.();
  const loadAtStart = loadAverage();
  const sampler = startSampler(() => system.pids());
  const summary = await load(options, options.seconds * 1000, tag);
  await system.releaseDelivery?.();
  const drained = delivers ? await drain(sink, tag, summary.accepted) : undefined;
  const usage = sampler.stop();
  const duplicates = delivers ? await sink.helper.request<number>('duplicates', { tag }) : 0;
  const elapsed = (summary.endedAt - summary.startedAt) / 1000;
  const delivered = drained?.count ?? summary.accepted;
  return {
    scenario: scenario.id,
    system: system.name,
    repetition,
    accepted: summary.accepted,
    failed: summary.failed,
    delivered,
    duplicates,
    acceptPerSecond: summary.accepted / elapsed,
    endToEndPerSecond:
      drained && delivered >= summary.accepted
        ? summary.accepted / ((drained.reachedAt - summary.startedAt) / 1000)
        : Number.NaN,
    p50: num(summary.latency.p50),
    p95: num(summary.latency.p95),
    p99: num(summary.latency.p99),
    sessionP50: num(summary.session.p50),
    transactionP50: num(summary.transaction.p50),
    transactionP99: num(summary.transaction.p99),
    cpuMsPerMessage: (usage.cpuSeconds * 1000) / Math.max(1, summary.accepted),
    peakMemoryMb: usage.peakPssBytes / 2 ** 20,
    generatorCpuPercent: (100 * summary.generatorCpuSeconds) / elapsed,
    loadAverage: loadAtStart,
    errors: summary.errors,
  };
}
