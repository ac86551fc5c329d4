import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import { EVENTS_FIELD, parseEvents } from './record-layout.js';
import { DROP_STALE_INDEX_ENTRY, RECOUNT_STATUSES, REINDEX_MESSAGE } from './retention-scripts.js';
import { defineScripts, runScript } from './scripts.js';

/** Every status a record may have today; any other one found is handled the same way. */
const KNOWN_STATUSES = [
  'queued',
  'deferred',
  'held',
  'delivered',
  'bounced',
  'expired',
  'partial',
  'suppressed',
  'purged',
];
const SCAN_COUNT = 500;

export interface ReindexResult {
  /** Message records read. */
  scanned: number;
  /** Records whose index entries had to be added or moved. */
  fixed: number;
  /** Index entries that named a deleted record (or the wrong status) and were dropped. */
  stale: number;
  /** The counts after the repair (equal to the per-status sets). */
  counts: Record<string, number>;
}

/**
 * The operator's repair (`postwarden queue reindex`): the one place that walks every
 * message, by hand, in SCAN batches. Each record's index entries are made right by one
 * script (REINDEX_MESSAGE), stale entries are dropped, and the counts are reset to the
 * sizes of the sets. Safe while the relay runs: every script keeps set and count together.
 * Also how records written before the indexes existed get them (run it once after the
 * upgrade).
 */
export async function reindexMessages(
  redis: Redis,
  keys: Keys,
  onProgress?: (scanned: number) => void,
): Promise<ReindexResult> {
  defineScripts(redis, REINDEX_MESSAGE, DROP_STALE_INDEX_ENTRY, RECOUNT_STATUSES);
  const statuses = new Set([...KNOWN_STATUSES, ...(await redis.hkeys(keys.statusCounts()))]);
  let scanned = 0;
  let fixed = 0;
  for await (const ids of scanMessageIds(redis, keys)) {
    const records = await Promise.all(
      ids.map(async (id) => ({
        id,
        status: await redis.hget(keys.message(id), 'status'),
        last: await lastEventEntry(redis, keys, id),
      })),
    );
    for (const record of records) if (record.status) statuses.add(record.status);
    const replies = await Promise.all(
      records.map(({ id, last }) =>
        runScript(
          redis,
          REINDEX_MESSAGE,
          [keys.message(id), keys.statusCounts(), keys.messageIndex()],
          [
            keys.statusIndexPrefix(),
            keys.addressIndexPrefix(),
            [...statuses].join(' '),
            String(lastEventMs(last)),
          ],
        ),
      ),
    );
    scanned += ids.length;
    fixed += replies.filter((reply) => Number(reply) === 1).length;
    onProgress?.(scanned);
  }
  let stale = 0;
  for (const status of statuses) stale += await dropStale(redis, keys, status);
  const flat = (await runScript(
    redis,
    RECOUNT_STATUSES,
    [keys.statusCounts()],
    [keys.statusIndexPrefix(), ...statuses],
  )) as (string | number)[];
  const counts: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) {
    if (Number(flat[i + 1]) > 0) counts[String(flat[i])] = Number(flat[i + 1]);
  }
  return { scanned, fixed, stale, counts };
}

/**
 * True when records exist but no counts do: data written before the indexes (an upgrade).
 * Two O(1) reads, for a warning at start; the repair itself is left to the operator.
 */
export async function indexesMissing(redis: Redis, keys: Keys): Promise<boolean> {
  const [counts, indexed] = await Promise.all([
    redis.exists(keys.statusCounts()),
    redis.zcard(keys.messageIndex()),
  ]);
  return counts === 0 && indexed > 0;
}

/**
 * Counts by status read from the records themselves (a SCAN of every record): what the
 * counts hash must equal. For the reindex check and for tests.
 */
export async function countRecordsByStatus(
  redis: Redis,
  keys: Keys,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const ids of scanMessageIds(redis, keys)) {
    const statuses = await Promise.all(ids.map((id) => redis.hget(keys.message(id), 'status')));
    for (const status of statuses) if (status) counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/** Message ids in SCAN batches: record keys only (`<prefix>:msg:<id>`, no sub-keys). */
async function* scanMessageIds(redis: Redis, keys: Keys): AsyncGenerator<string[]> {
  const head = keys.message('');
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${head}*`, 'COUNT', SCAN_COUNT);
    cursor = next;
    const ids = found.map((key) => key.slice(head.length)).filter((id) => !id.includes(':'));
    if (ids.length > 0) yield ids;
  } while (cursor !== '0');
}

async function dropStale(redis: Redis, keys: Keys, status: string): Promise<number> {
  let dropped = 0;
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(keys.statusIndex(status), cursor, 'COUNT', SCAN_COUNT);
    cursor = next;
    const ids = flat.filter((_, i) => i % 2 === 0);
    const replies = await Promise.all(
      ids.map((id) =>
        runScript(
          redis,
          DROP_STALE_INDEX_ENTRY,
          [keys.message(id), keys.statusCounts()],
          [keys.statusIndexPrefix(), status, id],
        ),
      ),
    );
    dropped += replies.filter((reply) => Number(reply) === 1).length;
  } while (cursor !== '0');
  return dropped;
}

/** A message's last event entry: in its record, or a legacy record's own list. */
async function lastEventEntry(redis: Redis, keys: Keys, id: string): Promise<string | null> {
  const joined = await redis.hget(keys.message(id), EVENTS_FIELD);
  if (joined) return joined.slice(joined.lastIndexOf('\n') + 1);
  return redis.lindex(keys.events(id), -1);
}

/**
 * The `at` of a message's last event (ms); now when it has none or it is unreadable (a
 * broken entry dates from now, so it is kept a full window).
 */
function lastEventMs(entry: string | null): number {
  const at = Date.parse(entry ? (parseEvents([entry])[0]?.at ?? '') : '');
  return Number.isNaN(at) ? Date.now() : at;
}
