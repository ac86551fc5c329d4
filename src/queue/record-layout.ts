import type { EventType, MessageEvent } from '../message/types.js';

/**
 * How a message's record hash holds its recipients and its events (issue 11, the
 * per-message footprint): in the record itself, not in a hash and a list of their own.
 * Two keys less per message kept for retention is about 500 B of Redis memory each (a
 * key's own entry, object and encoding headers cost more than the few bytes inside).
 *
 * - field `r:<address>` per recipient, in envelope order: its state, JSON {status, detail};
 *   a hash keeps that order only while it is listpack-encoded (a record past 128 fields or
 *   with a value past hash-max-listpack-value is not), so a message with more than one
 *   recipient also lists them in a `recipients` field (JSON), as records always did —
 *   the common single-recipient one does not need it;
 * - field `events`: the event entries in order, joined by '\n' (an entry is JSON, which
 *   never holds a raw newline), each `[type, at ms, detail]`.
 *
 * Records written before this layout kept them in `<record>:rcpt` (hash) and
 * `<record>:events` (list of JSON {type, at ISO, detail}), and the envelope order in a
 * `recipients` field (JSON list). Every script that changes a message folds those into
 * the record first (pwFoldLegacy, in the same atomic step), and the readers below read
 * them while they still exist; retention deletes them with the record. So an upgrade
 * needs no migration run.
 */

export const RECIPIENT_FIELD_PREFIX = 'r:';
export const EVENTS_FIELD = 'events';

/** One event entry as the writers (Staging, MessageStore, Holds) hand it to a script. */
export function eventEntry(type: EventType, detail: string, at = new Date()): string {
  return JSON.stringify([type, at.getTime(), detail]);
}

/** An entry of either layout: `[type, ms, detail]`, or the legacy `{type, at, detail}`. */
function parseEvent(entry: string): MessageEvent | undefined {
  try {
    const parsed = JSON.parse(entry) as unknown;
    if (Array.isArray(parsed)) {
      const [type, at, detail] = parsed as [EventType, number, string];
      const when = typeof at === 'number' && Math.abs(at) <= 8.64e15 ? new Date(at) : undefined;
      return { type, at: when ? when.toISOString() : '', detail: String(detail ?? '') };
    }
    const legacy = parsed as MessageEvent;
    return { type: legacy.type, at: legacy.at, detail: legacy.detail ?? '' };
  } catch {
    return undefined; // a broken entry is left out of the view, never fails a page
  }
}

export function parseEvents(entries: readonly string[]): MessageEvent[] {
  return entries.map(parseEvent).filter((event): event is MessageEvent => !!event);
}

/** The event entries held in a record hash (none for a legacy record: isLegacyLayout). */
export function eventEntriesOf(hash: Record<string, string>): string[] {
  const joined = hash[EVENTS_FIELD];
  return joined ? joined.split('\n') : [];
}

/** address → state JSON, from the `r:` fields of a record hash. */
export function recipientStatesOf(hash: Record<string, string>): Record<string, string> {
  const states: Record<string, string> = {};
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith(RECIPIENT_FIELD_PREFIX)) {
      states[field.slice(RECIPIENT_FIELD_PREFIX.length)] = value;
    }
  }
  return states;
}

/**
 * The envelope recipients in order: the `recipients` list (JSON) when the record has one
 * (more than one recipient, or a legacy record), else its one `r:` field.
 */
export function recipientOrderOf(hash: Record<string, string>): string[] {
  if (hash.recipients !== undefined) {
    try {
      return JSON.parse(hash.recipients) as string[];
    } catch {
      // a broken list: fall back to the fields
    }
  }
  return Object.keys(recipientStatesOf(hash));
}

/** A record written before this layout: it has an id but no events field yet. */
export function isLegacyLayout(hash: Record<string, string>): boolean {
  return !!hash.id && hash[EVENTS_FIELD] === undefined;
}

/**
 * Lua for the scripts that read or change a message (scripts.ts, hold-scripts.ts,
 * retention-scripts.ts):
 * - pwFoldLegacy(rec, kRcpt, kEvents): a legacy record's recipients and events move into
 *   it (older events first), and the two old keys go. One EXISTS when there are none.
 * - pwRecipientStates(rec): flat address/state-JSON pairs of every recipient.
 * - pwSetRecipientStates(rec, pairs): write address/state-JSON pairs.
 * - pwRecipientState(rec, address): one recipient's state JSON, or false.
 * - pwAppendEvents(rec, entries): append event entries to the record's list.
 */
export const RECORD_LAYOUT_LUA = `
local pwRcptPrefix = '${RECIPIENT_FIELD_PREFIX}'
local function pwAppendEvents(rec, entries)
  if #entries == 0 then return end
  local joined = table.concat(entries, '\\n')
  local existing = redis.call('HGET', rec, '${EVENTS_FIELD}')
  if existing and existing ~= '' then joined = existing .. '\\n' .. joined end
  redis.call('HSET', rec, '${EVENTS_FIELD}', joined)
end
local function pwSetRecipientStates(rec, pairs)
  if #pairs == 0 then return end
  local args = {}
  for i = 1, #pairs, 2 do
    args[#args + 1] = pwRcptPrefix .. pairs[i]
    args[#args + 1] = pairs[i + 1]
  end
  redis.call('HSET', rec, unpack(args))
end
local function pwRecipientStates(rec)
  local all = redis.call('HGETALL', rec)
  local out = {}
  local n = #pwRcptPrefix
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, n) == pwRcptPrefix then
      out[#out + 1] = string.sub(all[i], n + 1)
      out[#out + 1] = all[i + 1]
    end
  end
  return out
end
local function pwRecipientState(rec, address)
  return redis.call('HGET', rec, pwRcptPrefix .. address)
end
local function pwFoldLegacy(rec, kRcpt, kEvents)
  if redis.call('EXISTS', kRcpt, kEvents) == 0 then return end
  if redis.call('EXISTS', rec) == 1 then
    local old = redis.call('HGETALL', kRcpt)
    local states = {}
    for i = 1, #old, 2 do
      if not pwRecipientState(rec, old[i]) then
        states[#states + 1] = old[i]
        states[#states + 1] = old[i + 1]
      end
    end
    pwSetRecipientStates(rec, states)
    local list = redis.call('LRANGE', kEvents, 0, -1)
    local newer = redis.call('HGET', rec, '${EVENTS_FIELD}')
    if newer and newer ~= '' then list[#list + 1] = newer end
    redis.call('HSET', rec, '${EVENTS_FIELD}', table.concat(list, '\\n'))
  end
  redis.call('DEL', kRcpt, kEvents)
end
`;
