import { parseArgs } from 'node:util';
import { openManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

export function parseRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)(?:\/min)?$/.exec(text.trim());
  const value = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new UsageError(`--rate: "${text}" is not N/min`);
  return value;
}

function parseCount(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1)
    throw new UsageError(`${flag}: "${text}" is not a positive number`);
  return value;
}

export async function credentialsCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'allow-from': { type: 'string', multiple: true },
      rate: { type: 'string' },
      'max-recipients': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [action, name, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (action === 'create') {
    if (!name) throw new UsageError('credentials create needs a NAME');
    const allowFrom = values['allow-from'] ?? [];
    if (allowFrom.length === 0)
      throw new UsageError('credentials create needs at least one --allow-from PATTERN');
    const input = {
      name,
      allowFrom,
      ratePerMinute: parseRate(values.rate),
      maxRecipients: parseCount(values['max-recipients'], '--max-recipients'),
    };
    const context = await openManagement();
    try {
      const { credential, secret } = await context.services.credentials.create(input);
      out.result({ name: credential.name, secret, allowFrom: credential.allowFrom }, [
        `Created credential ${credential.name} (may send as ${credential.allowFrom.join(', ')}).`,
        `Secret (shown only now; it is the HTTP bearer token and the SMTP AUTH password, user ${credential.name}):`,
        secret,
      ]);
      return ExitCode.ok;
    } finally {
      await context.close();
    }
  }
  if (action === 'list') {
    if (name) throw new UsageError('credentials list takes no NAME');
    const context = await openManagement();
    try {
      const list = await context.services.credentials.list();
      out.result(
        list,
        list.length === 0
          ? 'No credentials yet.'
          : list.map(
              (c) =>
                `${c.name}\t${c.revoked ? 'revoked' : 'active'}\tallow-from ${c.allowFrom.join(',')}` +
                `${c.ratePerMinute ? `\trate ${c.ratePerMinute}/min` : ''}${c.maxRecipients ? `\tmax-recipients ${c.maxRecipients}` : ''}\tcreated ${c.createdAt}`,
            ),
      );
      return ExitCode.ok;
    } finally {
      await context.close();
    }
  }
  if (action === 'revoke' || action === 'rotate') {
    if (!name) throw new UsageError(`credentials ${action} needs a NAME`);
    const context = await openManagement();
    try {
      if (action === 'revoke') {
        if (!(await context.services.credentials.revoke(name))) {
          out.error('not_found', `no credential named ${name}`);
          return ExitCode.failure;
        }
        out.result({ name, revoked: true }, `Revoked ${name}: its secret no longer works.`);
        return ExitCode.ok;
      }
      const secret = await context.services.credentials.rotate(name);
      if (!secret) {
        out.error('not_found', `no active credential named ${name}`);
        return ExitCode.failure;
      }
      out.result({ name, secret }, [
        `New secret for ${name} (the old one stopped working):`,
        secret,
      ]);
      return ExitCode.ok;
    } finally {
      await context.close();
    }
  }
  throw new UsageError(`credentials: unknown action ${action ?? '(none)'}`);
}
