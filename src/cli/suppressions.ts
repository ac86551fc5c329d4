import { parseArgs } from 'node:util';
import type { SuppressionChange } from '../queue/suppression-operator.js';
import { MAX_SUPPRESSION_PAGE, type Suppression } from '../queue/suppressions.js';
import { createSuppressionOperator } from '../runtime/services.js';
import { withManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

/** What `list --json` prints per entry: the API's fields plus whose list and why. */
function entryJson(entry: Suppression) {
  return {
    credential: entry.credential,
    address: entry.address,
    reason: entry.reason,
    source: entry.source,
    createdAt: entry.at,
  };
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SUPPRESSION_PAGE) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_SUPPRESSION_PAGE}`);
  }
  return limit;
}

function changeText(change: SuppressionChange, done: string, notDone: string): string[] {
  const lines = [];
  if (change.changed.length > 0)
    lines.push(`${change.address} ${done}: ${change.changed.join(', ')}`);
  if (change.unchanged.length > 0)
    lines.push(`${change.address} ${notDone}: ${change.unchanged.join(', ')}`);
  return lines.length > 0 ? lines : [`No credential or form to apply it to.`];
}

/**
 * `postwarden suppressions list [--credential NAME] | add ADDRESS [--credential NAME] |
 * remove ADDRESS [--credential NAME]` (CONTRACT §CLI, §Suppressions). NAME is a credential
 * or a form principal `form:NAME`. Without --credential, list shows every list's entries
 * a page at a time (--limit, default 100, at most 500; --after the cursor it printed), and
 * add/remove apply to every current credential and form. Removing an absent address is
 * said so and exits 0 (like `bans unban`); an unknown credential exits 1.
 */
export async function suppressionsCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      credential: { type: 'string' },
      limit: { type: 'string' },
      after: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [action, address, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (action === 'list' && address) throw new UsageError('suppressions list takes no ADDRESS');
  if ((action === 'add' || action === 'remove') && !address)
    throw new UsageError(`suppressions ${action} needs an ADDRESS`);
  if (action !== 'list' && action !== 'add' && action !== 'remove')
    throw new UsageError(`suppressions: unknown action ${action ?? '(none)'}`);
  const limit = parseLimit(values.limit);
  return withManagement(async (context) => {
    const operator = createSuppressionOperator(context.services, context.actor);
    if (action === 'list') {
      const page = await operator.list({
        credential: values.credential,
        after: values.after,
        limit,
      });
      const lines = page.entries.map(
        (entry) => `${entry.credential}\t${entry.address}\t${entry.at}\t${entry.reason}`,
      );
      if (page.next) lines.push(`More: --after ${JSON.stringify(page.next)}`);
      out.result(
        { data: page.entries.map(entryJson), ...(page.next ? { next: page.next } : {}) },
        lines.length > 0 ? lines : 'No suppressed addresses.',
      );
      return ExitCode.ok;
    }
    if (action === 'add') {
      const change = await operator.add(address as string, values.credential);
      out.result(
        { address: change.address, added: change.changed, alreadyListed: change.unchanged },
        changeText(change, 'suppressed for', 'was already suppressed for'),
      );
      return ExitCode.ok;
    }
    const change = await operator.remove(address as string, values.credential);
    out.result(
      { address: change.address, removed: change.changed, notListed: change.unchanged },
      change.changed.length === 0 && change.unchanged.length > 0
        ? `${change.address} is not suppressed${values.credential ? ` for ${values.credential}` : ''}.`
        : changeText(change, 'no longer suppressed for', 'was not suppressed for'),
    );
    return ExitCode.ok;
  });
}
