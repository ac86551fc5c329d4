import { ConfigError, PostwardenError } from '../errors.js';
import {
  type CliStreams,
  createOutput,
  ExitCode,
  type ExitCodeValue,
  type Output,
  UsageError,
} from './output.js';
import { USAGE } from './usage.js';

type Command = (args: string[], out: Output) => Promise<ExitCodeValue>;

// Loaded on demand: a management command does not load the SMTP server, the HTTP app
// or the delivery worker, and a usage error is answered before anything heavy loads.
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.js')).startCommand,
  credentials: async () => (await import('./credentials.js')).credentialsCommand,
  queue: async () => (await import('./queue.js')).queueCommand,
  bans: async () => (await import('./bans.js')).bansCommand,
  admin: async () => (await import('./admin.js')).adminCommand,
  selftest: async () => (await import('./selftest.js')).selftestCommand,
  // Lead forms (issue 12).
  forms: async () => (await import('./forms.js')).formsCommand,
  // Suppressions (issue 13).
  suppressions: async () => (await import('./suppressions.js')).suppressionsCommand,
  // Webhooks (issue 13).
  webhooks: async () => (await import('./webhooks.js')).webhooksCommand,
  // Containment (CONTRACT §Containment): one module, a command each.
  ...Object.fromEntries(
    (['hold', 'release', 'pause', 'resume', 'audit'] as const).map((name) => [
      name,
      async () => (await import('./containment.js'))[`${name}Command`],
    ]),
  ),
};

/** argv (without node and script) → exit code. Never throws. */
export async function runCli(
  argv: string[],
  streams: CliStreams = { stdout: process.stdout, stderr: process.stderr },
): Promise<ExitCodeValue> {
  const json = argv.includes('--json');
  const out = createOutput(json, streams);
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    streams[name ? 'stdout' : 'stderr'].write(`${USAGE}\n`);
    return name ? ExitCode.ok : ExitCode.usage;
  }
  const load = COMMANDS[name];
  if (!load) {
    out.error('usage', `unknown command "${name}"\n\n${USAGE}`);
    return ExitCode.usage;
  }
  try {
    const command = await load();
    return await command(rest, out);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      out.error('usage', `${(error as Error).message}\n\n${USAGE}`);
      return ExitCode.usage;
    }
    if (error instanceof ConfigError || error instanceof PostwardenError) {
      out.error(error.code, error.message);
      return ExitCode.failure;
    }
    out.error('failed', (error as Error).message);
    return ExitCode.failure;
  }
}
