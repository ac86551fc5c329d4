/**
 * What the watchdog asks of a delivery worker and its queue (worker.ts provides it).
 */
export interface WatchdogProbe {
  /** Jobs waiting for a worker now; 0 while delivery is paused (nothing should start). */
  waitingJobs(): Promise<number>;
  /** Jobs this worker started since the previous call. */
  takeStarted(): number;
  /** Jobs this worker is running now. */
  running(): number;
}

export interface WatchdogOptions {
  intervalMs: number;
  /** The worker's concurrency: a full worker is busy, not stuck. */
  concurrency: number;
  /** Checks in a row that must look stuck before it acts (one slow moment is not enough). */
  strikes?: number;
  /** Replace the worker; resolves when the new one runs. */
  recreate(reason: string): Promise<void>;
}

/**
 * A worker that reports running but takes no jobs (BullMQ workers were seen to stop this
 * way after a Sentinel failover: the blocking connection ends and nothing notices —
 * taskforcesh/bullmq#3088, #4378) is recreated: when jobs are waiting, the worker has free
 * slots and it started none for `strikes` checks in a row. A healthy worker takes a
 * waiting job within milliseconds, so a few seconds of that means it is deaf. Whatever
 * it held is taken over by BullMQ's stalled-job check as after any crash.
 */
export function startWatchdog(probe: WatchdogProbe, options: WatchdogOptions): { stop(): void } {
  const needed = options.strikes ?? 2;
  let strikes = 0;
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void check().finally(() => {
      checking = false;
    });
  }, options.intervalMs);
  timer.unref();

  async function check(): Promise<void> {
    const started = probe.takeStarted();
    const waiting = await probe.waitingJobs().catch(() => 0);
    const deaf = waiting > 0 && started === 0 && probe.running() < options.concurrency;
    strikes = deaf ? strikes + 1 : 0;
    if (strikes < needed) return;
    strikes = 0;
    await options
      .recreate(`${waiting} job(s) waiting, none taken for ${needed} checks`)
      .catch(() => {});
    probe.takeStarted();
  }

  return {
    stop: () => clearInterval(timer),
  };
}
