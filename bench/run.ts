/**
 * `npm run bench` (issue 5): Postwarden side by side with Postfix, interleaved.
 *
 *   npm run build && node --import tsx bench/run.ts [--quick] [--reps 3] [--seconds 5]
 *       [--connections 20] [--only smtp-2k,http-2k] [--systems postwarden,postfix]
 *       [--profile] [--out .bench-out] [--backlog 100000] [--no-big]
 *
 * Scenarios: SMTP persistent sessions at 2 KB and 20 KB, one message per connection at
 * 2 KB (all with STARTTLS + AUTH PLAIN, against Postwarden and Postfix), HTTP POST of
 * 2 KB JSON (against Postwarden and a bare fastify+LPUSH ceiling), and the same message
 * to the Resend dialect's POST /emails (resend-2k, read beside http-2k). Each repetition runs
 * every (scenario, system) cell once, alternating which system goes first; every cell
 * starts a fresh system (fresh Redis / queue). Loopback only; stops by itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSelfSignedPair } from '../src/runtime/tls.js';
import { runCell, type Scenario, type Sink } from './cell.js';
import {
  type BacklogResult,
  type BigMessageResult,
  measureBacklog,
  measureBigMessage,
} from './extras.js';
import { startHelper } from './lib/helper-process.js';
import { freePort } from './lib/ports.js';
import { loadAverage } from './lib/proc.js';
import {
  aggregate,
  type Cell,
  evaluateTargets,
  renderDialects,
  renderExtras,
  renderTable,
  renderVerdicts,
} from './report.js';
import { startCeiling } from './systems/ceiling.js';
import { hasPostfix, startPostfix } from './systems/postfix.js';
import { MAIN_JS, startRelay } from './systems/relay.js';
import type { SystemUnderTest } from './systems/system.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '20' },
    only: { type: 'string' },
    systems: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-big': { type: 'boolean', default: false },
    backlog: { type: 'string', default: '0' },
    out: { type: 'string', default: path.join(BENCH_DIR, '../.bench-out') },
  },
});
const reps = Number(values.reps ?? (values.quick ? 1 : 3));
const seconds = Number(values.seconds ?? (values.quick ? 3 : 5));
const warmupSeconds = Number(values.warmup ?? 1);
const connections = Number(values.connections);

const SCENARIOS: Scenario[] = [
  {
    id: 'smtp-2k',
    kind: 'smtp',
    mode: 'persistent',
    bytes: 2048,
    systems: ['postwarden', 'postwarden-2p', 'postfix'],
  },
  {
    id: 'smtp-20k',
    kind: 'smtp',
    mode: 'persistent',
    bytes: 20_480,
    systems: ['postwarden', 'postwarden-2p', 'postfix'],
  },
  {
    id: 'smtp-1pc-2k',
    kind: 'smtp',
    mode: 'per-connection',
    bytes: 2048,
    systems: ['postwarden', 'postwarden-2p', 'postfix'],
  },
  {
    id: 'http-2k',
    kind: 'http',
    bytes: 2048,
    systems: ['postwarden', 'postwarden-2p', 'postwarden-intake', 'ceiling'],
  },
  {
    // The Resend dialect (issue 14): the same 2 KB message, whose JSON (from, to, subject,
    // text) is valid Resend too, to POST /emails; read beside http-2k.
    id: 'resend-2k',
    kind: 'http',
    bytes: 2048,
    path: '/emails',
    okStatus: 200,
    systems: ['postwarden', 'postwarden-intake'],
  },
];
const REFERENCES: Record<string, string> = {
  'smtp-2k': 'postfix',
  'smtp-20k': 'postfix',
  'smtp-1pc-2k': 'postfix',
  'http-2k': 'ceiling',
};

const only = values.only?.split(',');
const wanted = values.systems?.split(',');
const available = new Set(['ceiling']);
if (existsSync(MAIN_JS)) {
  available.add('postwarden');
  available.add('postwarden-2p');
  available.add('postwarden-intake');
} else console.warn(`! ${MAIN_JS} is missing (npm run build): Postwarden is skipped`);
if (hasPostfix() && process.getuid?.() === 0) available.add('postfix');
else console.warn('! Postfix needs the OS package and root: Postfix is skipped');
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id)).map((s) => ({
  ...s,
  systems: s.systems.filter((name) => available.has(name) && (!wanted || wanted.includes(name))),
}));

const tls = await generateSelfSignedPair(['localhost', '127.0.0.1']);
const profileDir = path.join(values.out, 'profiles');
if (values.profile) mkdirSync(profileDir, { recursive: true });

const RELAY_LAYOUTS: Record<string, 'one' | 'split' | 'intake-first'> = {
  postwarden: 'one',
  'postwarden-2p': 'split',
  'postwarden-intake': 'intake-first',
};

async function startSystem(name: string, sink: Sink): Promise<SystemUnderTest> {
  const layout = RELAY_LAYOUTS[name];
  if (layout) {
    return startRelay({
      sinkUrl: sink.url,
      tls,
      layout,
      ...(values.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    });
  }
  if (name === 'postfix') {
    return startPostfix({
      smtpPort: await freePort(),
      sinkPort: sink.port,
      tls,
      login: { user: 'bench', password: 'pw_bench_password_for_postfix' },
    });
  }
  return startCeiling();
}

function machine() {
  // A tool that is not installed (Postfix on a machine without it) reports no version.
  const version = (command: string, args: string[]) =>
    spawnSync(command, args, { encoding: 'utf8' }).stdout?.trim().split('\n')[0] ?? '';
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis: version('redis-server', ['--version']),
    postfix: version('postconf', ['-d', '-h', 'mail_version']),
    kernel: os.release(),
  };
}

const sinkHelper = await startHelper<{ port: number; url: string }>('sink', {});
const generator = await startHelper<{ pid: number }>('generator', {});
const sink: Sink = { ...sinkHelper.ready, helper: sinkHelper };
const cells: Cell[] = [];
const extras: {
  big?: BigMessageResult | string;
  bigIntake?: BigMessageResult | string;
  backlog?: BacklogResult | string;
} = {};

/** The single long measurements (extras.ts), on a fresh Postwarden each. */
async function runExtra<T>(
  measure: (system: SystemUnderTest) => Promise<T>,
  kind: string,
  systemName = 'postwarden',
) {
  let system: SystemUnderTest | undefined;
  try {
    system = await startSystem(systemName, sink);
    const result = await measure(system);
    console.log(`${kind}: ${JSON.stringify(result)}`);
    return result;
  } catch (error) {
    console.error(`${kind}: FAILED ${(error as Error).message}`);
    return `failed: ${(error as Error).message}`;
  } finally {
    await system?.stop();
  }
}
const startedAt = new Date();
const loadAtStart = loadAverage();
console.log(
  `bench: ${reps} repetition(s) × ${seconds} s, ${connections} connections, load average ${loadAtStart}`,
);
try {
  for (let repetition = 1; repetition <= reps; repetition++) {
    for (const scenario of scenarios) {
      // Alternate which system goes first, so drift in machine load hits both alike.
      const order = repetition % 2 === 1 ? scenario.systems : [...scenario.systems].reverse();
      for (const name of order) {
        let system: SystemUnderTest | undefined;
        try {
          system = await startSystem(name, sink);
          const cell = await runCell({
            scenario,
            system,
            sink,
            generator,
            repetition,
            seconds,
            warmupSeconds,
            connections,
          });
          cells.push(cell);
          console.log(
            `rep ${repetition} ${scenario.id} ${name}: ${cell.acceptPerSecond.toFixed(0)} msg/s accepted, ` +
              `${cell.endToEndPerSecond.toFixed(0)} e2e, p50 ${cell.p50.toFixed(1)} p99 ${cell.p99.toFixed(1)} ms (txn p99 ${cell.transactionP99.toFixed(0)}), ` +
              `${cell.cpuMsPerMessage.toFixed(2)} CPU ms/msg, ${cell.peakMemoryMb.toFixed(0)} MB, ` +
              `delivered ${cell.delivered}/${cell.accepted}, failed ${cell.failed}, generator ${cell.generatorCpuPercent.toFixed(0)} % of a core, load ${cell.loadAverage}` +
              (Object.keys(cell.errors).length ? ` errors ${JSON.stringify(cell.errors)}` : ''),
          );
        } catch (error) {
          console.error(
            `rep ${repetition} ${scenario.id} ${name}: FAILED ${(error as Error).message}`,
          );
        } finally {
          await system?.stop();
        }
      }
    }
  }
  extras.big =
    values['no-big'] || !available.has('postwarden')
      ? undefined
      : await runExtra((system) => measureBigMessage(system, generator, sink), 'big');
  // The same message into postwarden-2p, whose first process is the intake alone: its
  // growth is what accepting costs, with no delivery in the same heap.
  extras.bigIntake =
    values['no-big'] || !available.has('postwarden')
      ? undefined
      : await runExtra(
          (system) => measureBigMessage(system, generator, sink),
          'big-intake',
          'postwarden-2p',
        );
  if (Number(values.backlog) > 0 && available.has('postwarden'))
    extras.backlog = await runExtra(
      (system) => measureBacklog(system, generator, sink, Number(values.backlog)),
      'backlog',
    );
} finally {
  await generator.stop();
  await sinkHelper.stop();
}

const rows = aggregate(cells);
const verdicts = evaluateTargets(rows);
const splitVerdicts = rows.some((row) => row.system === 'postwarden-2p')
  ? evaluateTargets(rows, 'postwarden-2p')
  : [];
const table = renderTable(rows, REFERENCES);
const report = [
  `Run of ${startedAt.toISOString()}: ${reps} repetition(s), ${seconds} s load per cell after ${warmupSeconds} s warm-up, ${connections} connections; load average ${loadAtStart} at start, ${loadAverage()} at end.`,
  '',
  table,
  '',
  'Targets, `postwarden` (one process, as `npm start` ships):',
  '',
  renderVerdicts(verdicts),
  '',
  ...(splitVerdicts.length > 0
    ? [
        'Targets, `postwarden-2p` (intake and worker processes on the same Redis):',
        '',
        renderVerdicts(splitVerdicts),
        '',
      ]
    : []),
  renderDialects(rows),
  renderExtras(extras),
].join('\n');
console.log(`\n${report}`);
mkdirSync(values.out, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
writeFileSync(
  path.join(values.out, `bench-${stamp}.json`),
  JSON.stringify(
    {
      machine: machine(),
      options: { reps, seconds, warmupSeconds, connections },
      cells,
      rows,
      verdicts,
    },
    null,
    2,
  ),
);
writeFileSync(path.join(values.out, 'latest.md'), `${report}\n`);
console.log(`\nresults written to ${values.out}`);
