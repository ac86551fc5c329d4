import type { MessageSearch } from '../queue/operator.js';

const MAX_FIELD = 200;

function clean(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim().slice(0, MAX_FIELD);
  return trimmed === '' ? undefined : trimmed;
}

/** Query string → search, every field bounded and optional. */
export function parseMessageSearch(query: Record<string, unknown>): MessageSearch {
  const page = Number.parseInt(String(query.page ?? '1'), 10);
  return {
    id: clean(query.id),
    sender: clean(query.sender),
    recipient: clean(query.recipient),
    status: clean(query.status),
    from: clean(query.from),
    to: clean(query.to),
    page: Number.isFinite(page) && page > 0 ? Math.min(page, 10_000) : 1,
  };
}
