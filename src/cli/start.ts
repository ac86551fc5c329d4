import { parseArgs } from 'node:util';
import { bootRelay, type RunningRelay } from '../runtime/boot.js';
import { parseRole } from '../runtime/roles.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

/**
 * `postwarden start`: boot, then wait for SIGTERM/SIGINT and shut down in order within
 * the deadline (exit 0 when every step finished cleanly). A second signal gives up
 * waiting (exit 1 at once). Signals are watched from before the boot, so a SIGTERM during
 * start-up still stops the embedded Redis instead of leaving it behind.
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

  let relay: RunningRelay | undefined;
  let signalled: NodeJS.Signals | undefined;
  let finish: (code: ExitCodeValue) => void = () => {};
  const finished = new Promise<ExitCodeValue>((resolve) => {
    finish = resolve;
  });
  const stop = (running: RunningRelay, signal: NodeJS.Signals) =>
    void running.shutdown(signal).then((clean) => finish(clean ? ExitCode.ok : ExitCode.failure));
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      out.line(`Second ${signal}: exiting without waiting.`);
      finish(ExitCode.failure);
      return;
    }
    signalled = signal;
    out.line(`${signal}: stopping (new connections refused, deliveries in flight finish).`);
    if (relay) stop(relay, signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const booted = bootRelay(role, (line) => out.line(line)).then(
    (running) => {
      relay = running;
      if (signalled) stop(running, signalled);
      return finished;
    },
    (error: unknown) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      throw error;
    },
  );
  // A second signal during a slow boot must not wait for the boot either.
  return Promise.race([finished, booted]);
}
