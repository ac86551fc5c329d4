import { parseArgs } from 'node:util';
import { PURGEABLE_STATUSES, type PurgeableStatus } from '../queue/operator.js';
import { openManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

export async function queueCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'all-failed': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      credential: { type: 'string' },
      status: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
  });
  const [action, id, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if ((action === 'stats' || action === 'reindex') && id)
    throw new UsageError(`queue ${action} takes no argument`);
  if (action === 'show' && !id) throw new UsageError('queue show needs an ID');
  if (action === 'retry' && !id && !values['all-failed'])
    throw new UsageError('queue retry needs an ID or --all-failed');
  if (action === 'retry' && id && values['all-failed'])
    throw new UsageError('queue retry takes an ID or --all-failed, not both');
  if (action === 'purge' && id) throw new UsageError('queue purge takes no ID');
  const statuses = action === 'purge' ? parseStatuses(values.status) : [];
  if (!['stats', 'show', 'retry', 'purge', 'reindex'].includes(action ?? '')) {
    throw new UsageError(`queue: unknown action ${action ?? '(none)'}`);
  }
  const context = await openManagement();
  const operator = context.operator;
  try {
    if (action === 'stats') {
      const stats = await operator.stats();
      out.result(stats, [
        `waiting ${stats.waiting}, active ${stats.active}, deferred ${stats.deferred}, failed ${stats.failed}`,
        `by status: ${
          Object.entries(stats.byStatus)
            .map(([status, count]) => `${status} ${count}`)
            .join(', ') || 'none'
        }`,
        `oldest queued: ${stats.oldestQueuedAgeSeconds === null ? 'none' : `${Math.round(stats.oldestQueuedAgeSeconds)} s`}`,
      ]);
      return ExitCode.ok;
    }
    if (action === 'reindex') {
      // Progress goes to stderr, so stdout stays one result (one JSON document with --json).
      const result = await operator.reindex((scanned) => {
        if (scanned % 10_000 < 500) process.stderr.write(`reindex: ${scanned} messages read\n`);
      });
      out.result(result, [
        `Reindexed ${result.scanned} message(s): ${result.fixed} fixed, ${result.stale} stale index entries dropped.`,
        `by status: ${
          Object.entries(result.counts)
            .map(([status, count]) => `${status} ${count}`)
            .join(', ') || 'none'
        }`,
      ]);
      return ExitCode.ok;
    }
    if (action === 'show') {
      const view = await operator.show(id as string);
      if (!view) {
        out.error('not_found', `no message ${id}`);
        return ExitCode.failure;
      }
      out.result(view, [
        `${view.id}  ${view.status}  attempts ${view.attempts}  created ${view.createdAt}`,
        `from ${view.from}  subject ${JSON.stringify(view.subject)}`,
        ...view.recipients.map((r) => `  ${r.address}\t${r.status}\t${r.detail}`),
        ...view.events.map((e) => `  ${e.at}  ${e.type}  ${e.detail}`),
      ]);
      return ExitCode.ok;
    }
    if (action === 'purge') {
      const dryRun = values['dry-run'] === true;
      const result = await operator.purge({ credential: values.credential, statuses, dryRun });
      out.result(
        result,
        dryRun
          ? `${result.count} message(s) would be purged.`
          : `Purged ${result.count} message(s).`,
      );
      return ExitCode.ok;
    }
    if (id) {
      const result = await operator.retry(id);
      out.result(
        { id, ...result },
        result.retried ? `Retrying ${id}.` : `Not retried: ${result.reason ?? 'nothing to retry'}`,
      );
      return result.retried ? ExitCode.ok : ExitCode.failure;
    }
    const dryRun = values['dry-run'] === true;
    const result = await operator.retryAllFailed({ dryRun });
    out.result(
      { dryRun, ...result },
      dryRun
        ? `${result.matched} failed message(s) would be retried.`
        : `Retrying ${result.ids.length} failed message(s).`,
    );
    return ExitCode.ok;
  } finally {
    await context.close();
  }
}

/** `--status` values of a purge (repeatable or comma-separated); default held. */
function parseStatuses(values: string[] | undefined): PurgeableStatus[] {
  const words = (values ?? ['held']).flatMap((value) => value.split(',')).map((w) => w.trim());
  for (const word of words) {
    if (!(PURGEABLE_STATUSES as readonly string[]).includes(word)) {
      throw new UsageError(`--status: "${word}" is not one of held, queued, deferred`);
    }
  }
  return [...new Set(words)] as PurgeableStatus[];
}
