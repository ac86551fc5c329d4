import { cpuSeconds, pssBytes } from './proc.js';

export interface Usage {
  cpuSeconds: number;
  peakPssBytes: number;
}

/**
 * Measures a system's processes from now until `stop()`: CPU seconds used (difference of
 * the tree's totals) and the peak of their summed PSS (see pssBytes), sampled every `intervalMs`.
 * `pids` is called at every sample, because Postfix starts and ends processes.
 */
export function startSampler(pids: () => number[], intervalMs = 100) {
  const cpuAtStart = cpuSeconds(pids());
  let peakPssBytes = pssBytes(pids());
  const timer = setInterval(() => {
    peakPssBytes = Math.max(peakPssBytes, pssBytes(pids()));
  }, intervalMs);
  return {
    stop(): Usage {
      clearInterval(timer);
      const current = pids();
      peakPssBytes = Math.max(peakPssBytes, pssBytes(current));
      return { cpuSeconds: cpuSeconds(current) - cpuAtStart, peakPssBytes };
    },
  };
}
