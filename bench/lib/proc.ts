import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of a group of processes, read from /proc (Linux). A process's
 * CPU is utime+stime of itself plus cutime+cstime of its reaped children, so summing
 * that over a live process tree also counts children that already exited (Postfix's
 * master reaps its smtpd/cleanup/smtp processes).
 */

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in seconds. */
  cpuSeconds: number;
}

/** Parse one /proc/<pid>/stat line (the comm field may hold spaces and parentheses). */
export function parseStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(')');
  const pid = Number.parseInt(line, 10);
  if (close === -1 || !Number.isInteger(pid)) return undefined;
  // Fields after ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
  const rest = line.slice(close + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  const ticks = field(14) + field(15) + field(16) + field(17);
  if (!Number.isFinite(ticks)) return undefined;
  return { pid, ppid: field(4), cpuSeconds: ticks / TICKS_PER_SECOND };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) stats.push(stat);
  }
  return stats;
}

/** `root` and all its live descendants (empty when root is gone). */
export function processTree(root: number): number[] {
  const stats = allStats();
  if (!stats.some((stat) => stat.pid === root)) return [];
  const tree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const stat of stats) {
      if (!tree.has(stat.pid) && tree.has(stat.ppid)) {
        tree.add(stat.pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

/** Total CPU seconds of `pids` (each with its reaped children). */
export function cpuSeconds(pids: number[]): number {
  let total = 0;
  for (const pid of pids) total += readStat(pid)?.cpuSeconds ?? 0;
  return total;
}

/**
 * Proportional set size of `pids` added up, in bytes (0 for processes that are gone).
 * PSS, not RSS: Postfix runs dozens of processes sharing libraries and code pages, and
 * adding their RSS would count those shared pages once per process.
 */
export function pssBytes(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const match = /^Pss:\s+(\d+) kB/m.exec(rollup);
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // exited between listing and reading
    }
  }
  return total;
}

/** The 1-minute load average (reported with every figure: the machine is shared). */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
