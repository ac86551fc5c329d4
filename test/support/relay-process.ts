import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait-until.js';

/** The compiled relay: `npm test` builds dist/ before any test runs. */
export const MAIN_JS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/main.js',
);

/**
 * Our environment minus everything Postwarden reads, so a developer's REDIS_URL,
 * LOG_LEVEL or POSTWARDEN_* never leaks into a test's relay; then `env` (see relayEnv).
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'REDIS_URL' || name === 'LOG_LEVEL' || name.startsWith('POSTWARDEN_')) continue;
    base[name] = value;
  }
  return { ...base, LOG_LEVEL: 'warn', ...env };
}

export interface RelayProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved as they came, for failure messages. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Wait until stdout matches `pattern`; fails at once if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Send `signal` (SIGKILL by default) unless it has exited; resolves with the exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The one spawner of `node dist/main.js ...args` with `env` (a long-running `start`, or a command). */
export function spawnRelay(
  args: string[],
  env: Record<string, string>,
  options: { input?: string } = {},
): RelayProcess {
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    env: childEnv(env),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let both = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    both += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    both += chunk.toString();
  });
  child.stdin?.end(options.input);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid ?? 0,
    stdout: () => out,
    stderr: () => err,
    output: () => both,
    exited,
    async waitForOutput(pattern, timeoutMs = 30_000) {
      await waitUntil(
        () => {
          if (pattern.test(out)) return true;
          if (!running()) throw new Error(`exited before printing ${pattern}:\n${both}`);
          return false;
        },
        timeoutMs,
        `output matching ${pattern}; so far:\n${both}`,
      );
      return pattern.exec(out) as RegExpMatchArray;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (running()) child.kill(signal);
      return exited;
    },
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one CLI command to completion, with `input` on stdin; SIGKILLed after `timeoutMs`. */
export async function runRelayCommand(
  args: string[],
  env: Record<string, string>,
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const command = spawnRelay(args, env, { input: options.input ?? '' });
  // 'close', not 'exit': the output is complete only once the pipes are.
  const closed = new Promise<void>((resolve) => command.child.once('close', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void command.kill('SIGKILL');
      reject(new Error(`postwarden ${args.join(' ')} took over ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([closed, timedOut]);
  } finally {
    clearTimeout(timer);
  }
  return { code: await command.exited, stdout: command.stdout(), stderr: command.stderr() };
}

/** Poll `GET /readyz` until it answers 200. */
export async function waitForReady(httpPort: number, timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    async () => (await httpStatus(`http://127.0.0.1:${httpPort}/readyz`)) === 200,
    timeoutMs,
    `relay on port ${httpPort} to be ready`,
    50,
  );
}

/** Wait until a spawned relay answers /readyz; fail with its output if it exits first. */
export async function waitForRelay(relay: RelayProcess, httpPort: number): Promise<void> {
  await Promise.race([
    waitForReady(httpPort),
    relay.exited.then((code) => {
      throw new Error(`relay exited with ${code}: ${relay.output()}`);
    }),
  ]);
}

/** GET a loopback URL; undefined when nothing answers. */
export async function httpStatus(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

/** Is a process with this pid still alive? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
