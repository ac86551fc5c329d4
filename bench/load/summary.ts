import { type LatencySummary, summarize } from '../lib/stats.js';
import type { LoadResult } from './smtp-load.js';

/** What a load run reports to the runner (latency lists reduced to percentiles). */
export interface LoadSummary {
  accepted: number;
  failed: number;
  errors: Record<string, number>;
  startedAt: number;
  endedAt: number;
  latency: LatencySummary;
  transaction: LatencySummary;
  session: LatencySummary;
  /** CPU seconds the load generator itself used during the run. */
  generatorCpuSeconds: number;
  /** Of which in the kernel (loopback TCP is mostly charged to the sender). */
  generatorSystemCpuSeconds: number;
}

/** Run `load` and measure the generator's own CPU while it runs. */
export async function measureLoad(load: () => Promise<LoadResult>): Promise<LoadSummary> {
  const cpuBefore = process.cpuUsage();
  const result = await load();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    accepted: result.accepted,
    failed: result.failed,
    errors: result.errors,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    latency: summarize(result.latencies),
    transaction: summarize(
      result.transactionLatencies.length > 0 ? result.transactionLatencies : result.latencies,
    ),
    session: summarize(result.sessionLatencies),
    generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
    generatorSystemCpuSeconds: cpu.system / 1e6,
  };
}
