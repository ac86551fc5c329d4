import type { MessageStatus } from '../message/types.js';
import { lowerAscii } from '../redis/keys.js';
import { PENDING_STATUSES } from './index-scripts.js';
import type { MessageStore, StoredMessage } from './message-store.js';

/** An operator's message search (admin page); every field optional and bounded by its parser. */
export interface MessageSearch {
  id?: string | undefined;
  /**
   * Substring of the From: header or the envelope sender, case-insensitive. A whole
   * address is looked up in the address index (all history kept); a part of one is
   * matched among the newest RECENT_SCANNED messages only.
   */
  sender?: string | undefined;
  /** Substring of any envelope recipient, case-insensitive (same rule as sender). */
  recipient?: string | undefined;
  status?: string | undefined;
  /** `YYYY-MM-DDTHH:MM` (UTC, as the page shows times) or full ISO-8601. */
  from?: string | undefined;
  to?: string | undefined;
  page: number;
}

export interface MessageSummary {
  id: string;
  from: string;
  recipients: string[];
  subject: string;
  status: MessageStatus;
  createdAt: string;
}

export const PAGE_SIZE = 25;
const BATCH = 200;
/**
 * Index entries one search reads at most: a search costs the same whatever the history
 * (an address index holds at most ADDRESS_INDEX_CAP; a status set or the time index is
 * read newest first up to this).
 */
export const RECENT_SCANNED = 5000;
/** `local@domain`, no spaces: a whole address, looked up in its index. */
const WHOLE_ADDRESS = /^[^\s@]+@[^\s@]+$/;
function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

function matches(message: StoredMessage, search: MessageSearch, fromMs = 0, toMs = Infinity) {
  if (message.createdAtMs < fromMs || message.createdAtMs > toMs) return false;
  if (search.status && message.status !== search.status) return false;
  const sender = search.sender?.toLowerCase();
  if (
    sender &&
    !message.fromHeader.toLowerCase().includes(sender) &&
    !message.envelopeFrom.toLowerCase().includes(sender)
  ) {
    return false;
  }
  const recipient = search.recipient?.toLowerCase();
  if (recipient && !message.recipientOrder.some((to) => to.toLowerCase().includes(recipient))) {
    return false;
  }
  return true;
}

export function summarize(message: StoredMessage): MessageSummary {
  return {
    id: message.id,
    from: message.fromHeader || message.envelopeFrom,
    recipients: message.recipientOrder,
    subject: message.subject,
    status: message.status,
    createdAt: new Date(message.createdAtMs).toISOString(),
  };
}

type Source = (offset: number, count: number) => Promise<string[]>;

/**
 * The index a search reads: a whole address's index, else the status set, else the time
 * index. Scores are createdAt except in a final status set (last event, never before
 * createdAt), which is read from `fromMs` on and filtered by createdAt afterwards.
 */
function sourceFor(store: MessageStore, search: MessageSearch, fromMs: number, toMs: number) {
  const address = [search.recipient, search.sender]
    .map((value) => value?.trim())
    .find((value): value is string => !!value && WHOLE_ADDRESS.test(value));
  if (address) {
    const index = { address: lowerAscii(address) };
    return (offset: number, count: number) => store.indexIds(index, offset, count, fromMs, toMs);
  }
  const status = search.status;
  if (status) {
    const upTo = PENDING_STATUSES.includes(status) ? toMs : Number.MAX_SAFE_INTEGER;
    return (offset: number, count: number) =>
      store.indexIds({ status }, offset, count, fromMs, upTo);
  }
  return (offset: number, count: number) => store.listIds(offset, count, fromMs, toMs);
}

/**
 * Newest first; a page of matches and whether there are more. Reads one index (sourceFor),
 * at most RECENT_SCANNED entries of it, and the records of those entries.
 */
export async function searchMessages(
  store: MessageStore,
  search: MessageSearch,
): Promise<{ rows: MessageSummary[]; hasMore: boolean }> {
  if (search.id) {
    const message = await store.get(search.id);
    return {
      rows: message && matches(message, search) ? [summarize(message)] : [],
      hasMore: false,
    };
  }
  const fromMs = parseTime(search.from) ?? 0;
  const toMs = parseTime(search.to) ?? Number.MAX_SAFE_INTEGER;
  const source: Source = sourceFor(store, search, fromMs, toMs);
  const skip = (search.page - 1) * PAGE_SIZE;
  const rows: MessageSummary[] = [];
  let matched = 0;
  // The first read is about one page: an exact index (address, status) fills it at once.
  let size = Math.min(BATCH, skip + PAGE_SIZE + 1);
  for (let offset = 0; offset < RECENT_SCANNED; offset += size, size = BATCH) {
    const ids = await source(offset, size);
    const messages = await Promise.all(ids.map((id) => store.get(id)));
    for (const message of messages) {
      if (!message || !matches(message, search, fromMs, toMs)) continue;
      matched++;
      if (matched > skip + PAGE_SIZE) return { rows, hasMore: true };
      if (matched > skip) rows.push(summarize(message));
    }
    if (ids.length < size) break;
  }
  return { rows, hasMore: false };
}
