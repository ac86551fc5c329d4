import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait-until.js';

export const MAIN_JS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../dist/main.js',
);

/** A free loopback TCP port (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RelayProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawn the compiled relay (`node dist/main.js ...args`) with `env` on top of ours. */
export function spawnRelay(args: string[], env: Record<string, string>): RelayProcess {
  const child = spawn(process.execPath, [MAIN_JS, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    output: () => output,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Poll `GET /readyz` until it answers 200. */
export async function waitForReady(httpPort: number, timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
        return response.status === 200;
      } catch {
        return false;
      }
    },
    timeoutMs,
    `relay on port ${httpPort} to be ready`,
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
