/** Exit codes (CONTRACT §CLI): 0 ok, 1 failure, 2 usage error. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class UsageError extends Error {}

/** Human text or `--json`; every command prints through this. */
export interface Output {
  json: boolean;
  /** Print `human` as text, or `data` as one JSON document with --json. */
  result(data: unknown, human: string | string[]): void;
  /** A failure message (stderr); with --json, `{"error": {...}}` on stdout. */
  error(code: string, message: string): void;
  line(text: string): void;
}

/** Where a command's output goes: the process's streams, or a test's buffers. */
export interface CliStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export function createOutput(
  json: boolean,
  streams: CliStreams = { stdout: process.stdout, stderr: process.stderr },
): Output {
  const { stdout, stderr } = streams;
  return {
    json,
    result(data, human) {
      if (json) stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else stdout.write(`${(Array.isArray(human) ? human : [human]).join('\n')}\n`);
    },
    error(code, message) {
      if (json) stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
      else stderr.write(`postwarden: ${message}\n`);
    },
    line(text) {
      stdout.write(`${text}\n`);
    },
  };
}
