import { parseArgs } from 'node:util';
import { parsePerHour } from '../config/schema.js';
import { createSecurityOperator } from '../runtime/services.js';
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

/** `--hold-above N/h` (`0` = never held by volume). */
function parseHoldAbove(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parsePerHour(text);
  if (value === undefined) throw new UsageError(`--hold-above: "${text}" is not N/h (or 0)`);
  return value;
}

export async function credentialsCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'allow-from': { type: 'string', multiple: true },
      'allow-to': { type: 'string', multiple: true },
      rate: { type: 'string' },
      'max-recipients': { type: 'string' },
      'hold-above': { type: 'string' },
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
      allowTo: values['allow-to'] ?? [],
      ratePerMinute: parseRate(values.rate),
      maxRecipients: parseCount(values['max-recipients'], '--max-recipients'),
      holdAbove: parseHoldAbove(values['hold-above']),
    };
    const context = await openManagement();
    try {
      const security = createSecurityOperator(context.services, context.actor);
      const { credential, secret } = await security.createCredential(input);
      const allowTo = credential.allowTo.length > 0 ? { allowTo: credential.allowTo } : {};
      const holdAbove =
        credential.holdAbove === undefined ? {} : { holdAbove: credential.holdAbove };
      const mayMail =
        credential.allowTo.length > 0 ? `, only to ${credential.allowTo.join(', ')}` : '';
      const json = { name: credential.name, secret, allowFrom: credential.allowFrom };
      out.result({ ...json, ...allowTo, ...holdAbove }, [
        `Created credential ${credential.name} (may send as ${credential.allowFrom.join(', ')}${mayMail}).`,
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
                `${c.allowTo.length > 0 ? `\tallow-to ${c.allowTo.join(',')}` : ''}` +
                `${c.ratePerMinute ? `\trate ${c.ratePerMinute}/min` : ''}${c.maxRecipients ? `\tmax-recipients ${c.maxRecipients}` : ''}` +
                `${c.holdAbove !== undefined ? `\thold-above ${c.holdAbove}/h` : ''}\tcreated ${c.createdAt}`,
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
    const security = createSecurityOperator(context.services, context.actor);
    try {
      if (action === 'revoke') {
        if (!(await security.revokeCredential(name))) {
          out.error('not_found', `no credential named ${name}`);
          return ExitCode.failure;
        }
        out.result({ name, revoked: true }, `Revoked ${name}: its secret no longer works.`);
        return ExitCode.ok;
      }
      const secret = await security.rotateCredential(name);
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
