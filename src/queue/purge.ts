import type { Holds, PurgeableStatus } from './holds.js';
import type { MailQueue } from './mail-queue.js';
import type { MessageRecords } from './message-records.js';

export interface PurgeFilter {
  credential?: string | undefined;
  /** Default: held only. */
  statuses?: readonly PurgeableStatus[] | undefined;
}

const PAGE = 500;

/**
 * The messages a purge would end, found without walking history: held ones from the held
 * sets (per credential, or all), queued and deferred ones by walking only the jobs not yet
 * taken by a worker (BullMQ waiting, delayed, prioritized) — every pending message has
 * exactly one — and reading each one's record. A message a worker is delivering right now
 * is left to that delivery.
 */
export async function findPurgeable(
  holds: Holds,
  queue: MailQueue,
  records: MessageRecords,
  filter: PurgeFilter,
): Promise<Map<string, string>> {
  const statuses = new Set(filter.statuses ?? ['held']);
  const found = new Map<string, string>(); // id → credential
  if (statuses.has('held')) {
    let cursor = '0';
    do {
      const page = await holds.heldIds(filter.credential, cursor, PAGE);
      cursor = page.next;
      await addMatching(records, page.ids, filter.credential, new Set(['held']), found);
    } while (cursor !== '0');
  }
  const pendingStatuses = new Set([...statuses].filter((status) => status !== 'held'));
  if (pendingStatuses.size > 0) {
    for (let start = 0; ; start += PAGE) {
      const ids = await queue.pendingJobIds(start, PAGE);
      await addMatching(records, ids, filter.credential, pendingStatuses, found);
      if (ids.length < PAGE) break;
    }
  }
  return found;
}

async function addMatching(
  records: MessageRecords,
  ids: readonly string[],
  credential: string | undefined,
  statuses: ReadonlySet<string>,
  found: Map<string, string>,
): Promise<void> {
  const stored = await Promise.all(ids.map((id) => records.get(id)));
  for (const message of stored) {
    if (!message || !statuses.has(message.status)) continue;
    if (credential !== undefined && message.credential !== credential) continue;
    found.set(message.id, message.credential);
  }
}
