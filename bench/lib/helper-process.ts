import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Benchmark helpers (load generator, sink, SASL server, HTTP ceiling) each run in their
 * own Node process, so that their CPU is measured on its own and their work never stalls
 * the event loop that times replies. They talk to the runner over the IPC channel:
 * one `{ready}` message at start, then request/response pairs.
 */

const PROCS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../procs');

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

export interface Helper<Ready> {
  child: ChildProcess;
  pid: number;
  ready: Ready;
  request<T>(command: string, payload?: unknown, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** Fork `bench/procs/<name>.ts` with `options` (JSON) and wait for its ready message. */
export async function startHelper<Ready>(
  name: string,
  options: unknown,
  timeoutMs = 30_000,
): Promise<Helper<Ready>> {
  const child = fork(path.join(PROCS_DIR, `${name}.ts`), [JSON.stringify(options)], {
    // BENCH_PROFILE=<name> writes a V8 CPU profile of that helper into .bench-out/profiles/.
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_PROFILE === name
        ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROCS_DIR, '../../.bench-out/profiles')}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} helper did not start`)), timeoutMs);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { ready: Ready }).ready);
    });
    child.once('exit', (code) => reject(new Error(`${name} helper exited (${code}) at start`)));
  });
  child.on('message', (message) => {
    const reply = message as Reply;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter.reject(new Error(`${name}: ${reply.error}`));
    else waiter.resolve(reply.result);
  });
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited (${code})`));
    pending.clear();
  });
  return {
    child,
    pid: child.pid ?? 0,
    ready,
    request<T>(command: string, payload?: unknown, requestTimeoutMs = 300_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${command} timed out`));
        }, requestTimeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value as T);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, command, payload });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
