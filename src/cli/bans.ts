import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { createSecurityOperator } from '../runtime/services.js';
import { openManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

export async function bansCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' } },
  });
  const [action, ip, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (action === 'unban' && (!ip || isIP(ip) === 0))
    throw new UsageError('bans unban needs an IP address');
  if (action === 'list' && ip) throw new UsageError('bans list takes no argument');
  if (action !== 'list' && action !== 'unban')
    throw new UsageError(`bans: unknown action ${action ?? '(none)'}`);
  const context = await openManagement();
  try {
    if (action === 'list') {
      const bans = await context.services.abuseGuard.listBans();
      out.result(
        bans,
        bans.length === 0
          ? 'No banned addresses.'
          : bans.map((ban) => `${ban.ip}\tuntil ${ban.until} (${ban.secondsLeft} s)`),
      );
      return ExitCode.ok;
    }
    const unbanned = await createSecurityOperator(context.services, context.actor).unban(
      ip as string,
    );
    out.result({ ip, unbanned }, unbanned ? `Unbanned ${ip}.` : `${ip} is not banned.`);
    return ExitCode.ok;
  } finally {
    await context.close();
  }
}
