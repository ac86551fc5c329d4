import type { MessageStatus } from '../message/types.js';
import type { MessageStore, StoredMessage } from './message-store.js';

/** An operator's message search (admin page); every field optional and bounded by its parser. */
export interface MessageSearch {
  id?: string | undefined;
  /** Substring of the From: header or the envelope sender, case-insensitive. */
  sender?: string | undefined;
  /** Substring of any envelope recipient, case-insensitive. */
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
/** At this scale a scan of the index is fine; cap it so one search cannot run away. */
const MAX_SCANNED = 20_000;
function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

function matches(message: StoredMessage, search: MessageSearch): boolean {
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

/**
 * Newest first; a page of matches and whether there are more. It walks the time index
 * (bounded by MAX_SCANNED); constant-cost indexes for search are a later issue.
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
  const skip = (search.page - 1) * PAGE_SIZE;
  const rows: MessageSummary[] = [];
  let matched = 0;
  for (let offset = 0; offset < MAX_SCANNED; offset += BATCH) {
    const ids = await store.listIds(offset, BATCH, fromMs, toMs);
    const messages = await Promise.all(ids.map((id) => store.get(id)));
    for (const message of messages) {
      if (!message || !matches(message, search)) continue;
      matched++;
      if (matched > skip + PAGE_SIZE) return { rows, hasMore: true };
      if (matched > skip) rows.push(summarize(message));
    }
    if (ids.length < BATCH) break;
  }
  return { rows, hasMore: false };
}
