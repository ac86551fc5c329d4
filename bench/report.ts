/**
 * Turning measured cells into the benchmark table, ratios and the issue-5 verdicts.
 * Pure (unit-tested in test/unit/bench-report.test.ts): no I/O here.
 */
import { median, ratio } from './lib/stats.js';

export interface Cell {
  scenario: string;
  system: string;
  repetition: number;
  accepted: number;
  failed: number;
  delivered: number;
  duplicates: number;
  acceptPerSecond: number;
  /** NaN when the sink did not receive every accepted message in time. */
  endToEndPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** Per-connection mode: connect → 250, median. */
  sessionP50: number;
  /** SMTP: client ready for the next MAIL → its 250 (includes MAIL-time throttling). */
  transactionP50: number;
  transactionP99: number;
  cpuMsPerMessage: number;
  peakMemoryMb: number;
  generatorCpuPercent: number;
  loadAverage: number;
  errors: Record<string, number>;
}

export type Row = Omit<Cell, 'repetition' | 'errors'> & {
  repetitions: number;
  allDelivered: boolean;
};

const MEDIAN_FIELDS = [
  'accepted',
  'failed',
  'delivered',
  'duplicates',
  'acceptPerSecond',
  'endToEndPerSecond',
  'p50',
  'p95',
  'p99',
  'sessionP50',
  'transactionP50',
  'transactionP99',
  'cpuMsPerMessage',
  'peakMemoryMb',
  'generatorCpuPercent',
  'loadAverage',
] as const;

/** One row per (scenario, system): the median of every figure over the repetitions. */
export function aggregate(cells: Cell[]): Row[] {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) {
    const key = `${cell.scenario}\u0000${cell.system}`;
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as Cell;
    const row = {
      scenario: first.scenario,
      system: first.system,
      repetitions: group.length,
      allDelivered: group.every(
        (cell) => cell.delivered === cell.accepted && cell.duplicates === 0,
      ),
    } as Row;
    for (const field of MEDIAN_FIELDS) row[field] = median(group.map((cell) => cell[field]));
    return row;
  });
}

export function findRow(rows: Row[], scenario: string, system: string): Row | undefined {
  return rows.find((row) => row.scenario === scenario && row.system === system);
}

export interface Verdict {
  target: string;
  value: string;
  met: boolean | undefined;
}

const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');

function check(value: number, ok: (value: number) => boolean): boolean | undefined {
  return Number.isFinite(value) ? ok(value) : undefined;
}

/** The issue-5 targets that the runner's scenarios measure, each met or not. */
export function evaluateTargets(rows: Row[], subject = 'postwarden'): Verdict[] {
  const verdicts: Verdict[] = [];
  const pair = (scenario: string, reference: string) => ({
    ours: findRow(rows, scenario, subject),
    theirs: findRow(rows, scenario, reference),
  });
  const rate = (
    scenario: string,
    reference: string,
    field: 'acceptPerSecond' | 'endToEndPerSecond',
  ) => {
    const { ours, theirs } = pair(scenario, reference);
    return ratio(ours?.[field] ?? Number.NaN, theirs?.[field] ?? Number.NaN);
  };
  const s2 = pair('smtp-2k', 'postfix');
  for (const [scenario, goal] of [
    ['smtp-2k', 2.0],
    ['smtp-20k', 1.5],
  ] as const) {
    const accept = rate(scenario, 'postfix', 'acceptPerSecond');
    verdicts.push({
      target: `${scenario} accept ≥ ${goal}× Postfix`,
      value: x(accept),
      met: check(accept, (v) => v >= goal),
    });
    const e2e = rate(scenario, 'postfix', 'endToEndPerSecond');
    verdicts.push({
      target: `${scenario} end-to-end ≥ 1.5× Postfix`,
      value: x(e2e),
      met: check(e2e, (v) => v >= 1.5),
    });
  }
  const ourRows = rows.filter((row) => row.system === subject);
  if (ourRows.length > 0) {
    const all = ourRows.every((row) => row.allDelivered);
    verdicts.push({
      target: 'delivered = accepted in every run (no duplicates)',
      value: all ? 'yes' : 'no',
      met: all,
    });
  }
  const p50 = s2.ours?.p50 ?? Number.NaN;
  const p99 = s2.ours?.p99 ?? Number.NaN;
  verdicts.push({ target: 'smtp-2k p50 ≤ 10 ms', value: ms(p50), met: check(p50, (v) => v <= 10) });
  verdicts.push({ target: 'smtp-2k p99 ≤ 50 ms', value: ms(p99), met: check(p99, (v) => v <= 50) });
  for (const scenario of ['smtp-2k', 'smtp-20k']) {
    const { ours, theirs } = pair(scenario, 'postfix');
    const cpu = ratio(ours?.cpuMsPerMessage ?? Number.NaN, theirs?.cpuMsPerMessage ?? Number.NaN);
    verdicts.push({
      target: `${scenario} CPU/message ≤ 50 % of Postfix`,
      value: Number.isFinite(cpu) ? `${(cpu * 100).toFixed(0)} %` : 'n/a',
      met: check(cpu, (v) => v <= 0.5),
    });
  }
  const http = rate('http-2k', 'ceiling', 'acceptPerSecond');
  verdicts.push({
    target: 'HTTP ≥ 50 % of the fastify+LPUSH ceiling',
    value: Number.isFinite(http) ? `${(http * 100).toFixed(0)} %` : 'n/a',
    met: check(http, (v) => v >= 0.5),
  });
  const httpP99 = findRow(rows, 'http-2k', subject)?.p99 ?? Number.NaN;
  verdicts.push({
    target: 'HTTP p99 ≤ 50 ms',
    value: ms(httpP99),
    met: check(httpP99, (v) => v <= 50),
  });
  const once = rate('smtp-1pc-2k', 'postfix', 'acceptPerSecond');
  verdicts.push({
    target: 'one message per connection ≥ 1.0× Postfix',
    value: x(once),
    met: check(once, (v) => v >= 1.0),
  });
  return verdicts;
}

const fixed = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';

/** The side-by-side Markdown table, with the ratio to the reference row of each scenario. */
export function renderTable(rows: Row[], references: Record<string, string>): string {
  const header =
    '| scenario | system | accepted msg/s | end-to-end msg/s | p50 ms | p95 ms | p99 ms | txn p50 / p99 ms | CPU ms/msg | peak PSS MB | delivered/accepted | ratio accept / e2e / CPU |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|';
  const lines = rows.map((row) => {
    const reference = findRow(rows, row.scenario, references[row.scenario] ?? '');
    const ratios =
      reference && reference !== row
        ? `${fixed(ratio(row.acceptPerSecond, reference.acceptPerSecond), 2)} / ${fixed(ratio(row.endToEndPerSecond, reference.endToEndPerSecond), 2)} / ${fixed(ratio(row.cpuMsPerMessage, reference.cpuMsPerMessage), 2)}`
        : '1 (reference)';
    return `| ${row.scenario} | ${row.system} | ${fixed(row.acceptPerSecond)} | ${fixed(row.endToEndPerSecond)} | ${fixed(row.p50, 1)} | ${fixed(row.p95, 1)} | ${fixed(row.p99, 1)} | ${fixed(row.transactionP50, 1)} / ${fixed(row.transactionP99, 1)} | ${fixed(row.cpuMsPerMessage, 2)} | ${fixed(row.peakMemoryMb)} | ${fixed(row.delivered)}/${fixed(row.accepted)}${row.allDelivered ? '' : ' ⚠'} | ${ratios} |`;
  });
  return [header, ...lines].join('\n');
}

export function renderVerdicts(verdicts: Verdict[]): string {
  const mark = (met: boolean | undefined) =>
    met === undefined ? 'not measured' : met ? 'met' : 'NOT met';
  return [
    '| target | measured | verdict |',
    '|---|---|---|',
    ...verdicts.map((v) => `| ${v.target} | ${v.value} | ${mark(v.met)} |`),
  ].join('\n');
}

/** The Resend dialect's accepted msg/s beside POST /v1/messages, per system measured in both. */
export function renderDialects(rows: Row[]): string {
  const lines: string[] = [];
  for (const row of rows.filter((r) => r.scenario === 'resend-2k')) {
    const native = findRow(rows, 'http-2k', row.system);
    if (!native) continue;
    lines.push(
      `- Resend dialect, ${row.system}: POST /emails ${fixed(row.acceptPerSecond)} msg/s vs POST /v1/messages ${fixed(native.acceptPerSecond)} msg/s (${fixed(ratio(row.acceptPerSecond, native.acceptPerSecond), 2)}×), p99 ${fixed(row.p99, 1)} vs ${fixed(native.p99, 1)} ms`,
    );
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** The 25 MB message's figures (bench/extras.ts BigMessageResult). */
type BigFigures = {
  acceptGrowthRatio: number;
  peakAtAcceptRssMb: number;
  growthRatio: number;
  peakRssMb: number;
  rssBeforeMb: number;
  accepted: boolean;
  delivered: boolean;
};

/** The 25 MB message as one line (`where`: which process was measured). */
function bigLine(big: BigFigures | string, where: string): string {
  if (typeof big === 'string') return `- 25 MB message (${where}): ${big}`;
  return `- 25 MB message (${where}): ${big.accepted ? 'accepted' : 'NOT accepted'}, ${big.delivered ? 'delivered' : 'NOT delivered'}; RSS ${big.rssBeforeMb.toFixed(0)} → ${big.peakAtAcceptRssMb.toFixed(0)} MB until the 250, growth ${big.acceptGrowthRatio.toFixed(2)}× the message (target ≤ 3×: ${big.acceptGrowthRatio <= 3 ? 'met' : 'NOT met'}); → ${big.peakRssMb.toFixed(0)} MB until delivered, ${big.growthRatio.toFixed(2)}×`;
}

/** The 25 MB and backlog measurements as short lines (strings are failures). */
export function renderExtras(extras: {
  big?: BigFigures | string;
  bigIntake?: BigFigures | string;
  backlog?:
    | { accepted: number; acceptSeconds: number; drainSeconds: number; windows: number[] }
    | string;
}): string {
  const lines: string[] = [];
  if (extras.big) lines.push(bigLine(extras.big, 'postwarden, one process: accepts and delivers'));
  if (extras.bigIntake)
    lines.push(bigLine(extras.bigIntake, 'the intake process of postwarden-2p'));
  const backlog = extras.backlog;
  if (typeof backlog === 'string') lines.push(`- backlog: ${backlog}`);
  else if (backlog) {
    const rates = backlog.windows.map((rate) => rate.toFixed(0)).join(', ');
    lines.push(
      `- backlog of ${backlog.accepted}: accepted in ${backlog.acceptSeconds.toFixed(0)} s, drained in ${backlog.drainSeconds.toFixed(0)} s; deliveries/s per 5 s window: ${rates}`,
    );
  }
  return lines.join('\n');
}
