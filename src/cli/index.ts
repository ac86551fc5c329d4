import { ConfigError, PostwardenError } from '../errors.js';
import { adminCommand } from './admin.js';
import { bansCommand } from './bans.js';
import { credentialsCommand } from './credentials.js';
import { createOutput, ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';
import { queueCommand } from './queue.js';
import { selftestCommand } from './selftest.js';
import { startCommand } from './start.js';
import { USAGE } from './usage.js';

const COMMANDS: Record<string, (args: string[], out: Output) => Promise<ExitCodeValue>> = {
  start: startCommand,
  credentials: credentialsCommand,
  queue: queueCommand,
  bans: bansCommand,
  admin: adminCommand,
  selftest: selftestCommand,
};

/** argv (without node and script) → exit code. Never throws. */
export async function runCli(argv: string[]): Promise<ExitCodeValue> {
  const json = argv.includes('--json');
  const out = createOutput(json);
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process[name ? 'stdout' : 'stderr'].write(`${USAGE}\n`);
    return name ? ExitCode.ok : ExitCode.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    out.error('usage', `unknown command "${name}"\n\n${USAGE}`);
    return ExitCode.usage;
  }
  try {
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
