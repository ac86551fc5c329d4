/**
 * Two issue-5 targets that are single long measurements rather than interleaved cells:
 * a 25 MB message (relay RSS growth ≤ 3× its size) and a 100,000-message backlog that
 * must drain at a steady rate.
 */
import { readFileSync } from 'node:fs';
import type { Sink } from './cell.js';
import type { Helper } from './lib/helper-process.js';
import type { LoadSummary } from './load/summary.js';
import type { SystemUnderTest } from './systems/system.js';

function rssBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  } catch {
    return 0;
  }
}

export interface BigMessageResult {
  messageBytes: number;
  accepted: boolean;
  acceptMs: number;
  rssBeforeMb: number;
  /** Highest RSS from the start of the upload until the client had its 250 (accepting). */
  peakAtAcceptRssMb: number;
  /** (peak until the 250 − before) / message size: the "accepted with RSS growth". */
  acceptGrowthRatio: number;
  /** Highest RSS until the sink had the message (accepting and delivering). */
  peakRssMb: number;
  /** (peak − before) / message size, for the relay's own process (not its Redis). */
  growthRatio: number;
  delivered: boolean;
  errors: Record<string, number>;
}

/** One message of `bytes` over SMTP; the first pid of the system is the one measured. */
export async function measureBigMessage(
  system: SystemUnderTest,
  generator: Helper<unknown>,
  sink: Sink,
  // 25 MB (decimal): under the 25 MiB default limit of both systems, headers included.
  bytes = 25_000_000,
): Promise<BigMessageResult> {
  const pid = system.pids()[0] ?? 0;
  const before = rssBytes(pid);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 5);
  const tag = `big-${system.name}`;
  const summary = await generator.request<LoadSummary>('smtp', {
    port: system.smtpPort,
    user: system.user,
    password: system.password,
    connections: 1,
    messageBytes: bytes,
    mode: 'persistent',
    durationMs: 60_000,
    maxMessages: 1,
    tag,
  });
  // One process accepts and delivers: the delivery may have begun before the 250 reached
  // the generator, so this peak is an upper bound of what accepting took.
  const peakAtAccept = Math.max(peak, rssBytes(pid));
  const drained = await sink.helper.request<{ count: number }>('waitFor', {
    tag,
    count: 1,
    timeoutMs: 60_000,
  });
  clearInterval(timer);
  peak = Math.max(peak, rssBytes(pid));
  return {
    messageBytes: bytes,
    accepted: summary.accepted === 1,
    acceptMs: summary.latency.p50,
    rssBeforeMb: before / 2 ** 20,
    peakAtAcceptRssMb: peakAtAccept / 2 ** 20,
    acceptGrowthRatio: (peakAtAccept - before) / bytes,
    peakRssMb: peak / 2 ** 20,
    growthRatio: (peak - before) / bytes,
    delivered: drained.count >= 1,
    errors: summary.errors,
  };
}

export interface BacklogResult {
  messages: number;
  accepted: number;
  acceptSeconds: number;
  drainSeconds: number;
  delivered: number;
  /** Deliveries per second in each 5 s window from the start of the load. */
  windows: number[];
}

/** Submit `messages` 2 KB messages as fast as 20 connections go, then wait for the drain. */
export async function measureBacklog(
  system: SystemUnderTest,
  generator: Helper<unknown>,
  sink: Sink,
  messages: number,
): Promise<BacklogResult> {
  const tag = `backlog-${system.name}`;
  const summary = await generator.request<LoadSummary>(
    'smtp',
    {
      port: system.smtpPort,
      user: system.user,
      password: system.password,
      connections: 20,
      messageBytes: 2048,
      mode: 'persistent',
      durationMs: 600_000,
      maxMessages: messages,
      tag,
    },
    700_000,
  );
  const drained = await sink.helper.request<{ count: number; reachedAt: number }>(
    'waitFor',
    { tag, count: summary.accepted, timeoutMs: 600_000 },
    610_000,
  );
  const windowMs = 5000;
  const counts = await sink.helper.request<number[]>('timeline', {
    tag,
    since: summary.startedAt,
    windowMs,
  });
  return {
    messages,
    accepted: summary.accepted,
    acceptSeconds: (summary.endedAt - summary.startedAt) / 1000,
    drainSeconds: (drained.reachedAt - summary.startedAt) / 1000,
    delivered: drained.count,
    windows: counts.map((count) => count / (windowMs / 1000)),
  };
}
