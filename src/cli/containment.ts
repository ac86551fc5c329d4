import { parseArgs } from 'node:util';
import { withManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

/** Parse `args` with `--json` plus `options`; positionals must number `count`. */
function parse(
  args: string[],
  count: number,
  usage: string,
  options: Record<string, { type: 'string' }> = {},
) {
  const parsed = parseArgs({
    args,
    allowPositionals: true,
    options: { ...options, json: { type: 'boolean' } },
  });
  if (parsed.positionals.length !== count) throw new UsageError(usage);
  return { values: parsed.values as Record<string, string | undefined>, names: parsed.positionals };
}

/** `hold NAME [--reason TEXT]` (CONTRACT §Containment). */
export async function holdCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, names } = parse(args, 1, 'hold needs exactly one credential NAME', {
    reason: { type: 'string' },
  });
  const name = names[0] as string;
  return withManagement(async ({ services, operator }) => {
    if (!(await services.credentials.get(name))) {
      out.error('not_found', `no credential named ${name}`);
      return ExitCode.failure;
    }
    const held = await operator.hold(name, values.reason ?? '');
    out.result(
      { name, held: true, already: !held },
      held
        ? `Holding ${name}: its messages are kept, none is delivered.`
        : `${name} was already on hold.`,
    );
    return ExitCode.ok;
  });
}

/** `release NAME`: clear the hold, put its held messages back on the queue. */
export async function releaseCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const name = parse(args, 1, 'release needs exactly one credential NAME').names[0] as string;
  return withManagement(async ({ operator }) => {
    const { wasHeld, released } = await operator.release(name);
    out.result(
      { name, wasHeld, released },
      `${wasHeld ? `Released ${name}` : `${name} was not on hold`}; ${released} held message(s) back on the queue.`,
    );
    return ExitCode.ok;
  });
}

/** `pause [--reason TEXT]`: the kill switch for all delivery, in every worker. */
export async function pauseCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values } = parse(args, 0, 'pause takes no argument (but --reason TEXT)', {
    reason: { type: 'string' },
  });
  return withManagement(async ({ operator }) => {
    await operator.pause(values.reason ?? '');
    out.result({ paused: true }, 'Delivery paused in every worker; acceptance goes on.');
    return ExitCode.ok;
  });
}

export async function resumeCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  parse(args, 0, 'resume takes no argument');
  return withManagement(async ({ operator }) => {
    await operator.resume();
    out.result({ paused: false }, 'Delivery resumed.');
    return ExitCode.ok;
  });
}

/** `audit [--limit N]`: operator actions, newest first. */
export async function auditCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values } = parse(args, 0, 'audit takes no argument (but --limit N)', {
    limit: { type: 'string' },
  });
  const limitText = values.limit ?? '50';
  if (!/^\d{1,5}$/.test(limitText) || Number(limitText) < 1) {
    throw new UsageError(`--limit: "${limitText}" is not a positive number`);
  }
  return withManagement(async ({ operator }) => {
    const entries = await operator.auditLog(Number(limitText));
    out.result(
      entries,
      entries.length === 0
        ? 'No operator actions recorded yet.'
        : entries.map((e) => `${e.at}\t${e.actor}\t${e.action}\t${e.target}\t${e.detail}`),
    );
    return ExitCode.ok;
  });
}
