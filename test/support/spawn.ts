import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, MAIN_JS } from './relay-process.js';
import { waitUntil } from './wait-until.js';

export { freePort, waitUntil };

/**
 * Helpers for end-to-end tests of the compiled CLI (`node dist/main.js ...`): `npm test`
 * builds dist/ before any test runs. The child gets our environment minus everything
 * Postwarden reads (so a developer's REDIS_URL never leaks in), plus `env`.
 */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'REDIS_URL' || name === 'LOG_LEVEL' || name.startsWith('POSTWARDEN_')) continue;
    base[name] = value;
  }
  return { ...base, LOG_LEVEL: 'warn', ...env };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one CLI command to completion (killed after `timeoutMs`), optionally with stdin. */
export function runCommand(
  args: string[],
  env: Record<string, string>,
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`postwarden ${args.join(' ')} took over ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface StartedProcess {
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Wait until stdout matches `pattern`; fails early if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  signal(name: NodeJS.Signals): void;
  /** SIGKILL if still running (for `after` hooks). */
  kill(): Promise<void>;
}

/** Spawn a long-running command (`start`) and collect its output. */
export function spawnProcess(args: string[], env: Record<string, string>): StartedProcess {
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  return {
    pid: child.pid ?? 0,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForOutput(pattern, timeoutMs = 30_000) {
      await waitUntil(
        () => {
          if (pattern.test(out)) return true;
          if (done) throw new Error(`exited before printing ${pattern}:\n${out}\n${err}`);
          return false;
        },
        timeoutMs,
        `output matching ${pattern}; so far:\n${out}\n${err}`,
      );
      return pattern.exec(out) as RegExpMatchArray;
    },
    signal(name) {
      if (!done) child.kill(name);
    },
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
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

/** A temp data dir for one test file, with its cleanup. */
export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pw-e2e-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Three distinct free loopback ports for HTTP, SMTP submission and SMTPS. */
export async function freeRelayPorts(): Promise<{ http: number; smtp: number; smtps: number }> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [http = 0, smtp = 0, smtps = 0] = [...ports];
  return { http, smtp, smtps };
}

/** GET a loopback URL; undefined when nothing answers. */
export async function httpStatus(url: string): Promise<number | undefined> {
  try {
    return (await fetch(url)).status;
  } catch {
    return undefined;
  }
}
