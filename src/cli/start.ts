import { parseArgs } from 'node:util';
import { bootRelay } from '../runtime/boot.js';
import { parseRole } from '../runtime/roles.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

/**
 * `postwarden start`: boot, then wait for SIGTERM/SIGINT and shut down in order within
 * the deadline. A second signal gives up waiting (exit 1).
 */
export async function startCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { role: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  const role = parseRole(values.role);
  if (!role) throw new UsageError(`--role must be all, intake or worker (got ${values.role})`);
  const relay = await bootRelay(role, (line) => out.line(line));
  return new Promise<ExitCodeValue>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        out.line(`Second ${signal}: exiting without waiting.`);
        resolve(ExitCode.failure);
        return;
      }
      stopping = true;
      void relay.shutdown(signal).then((clean) => resolve(clean ? ExitCode.ok : ExitCode.failure));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
