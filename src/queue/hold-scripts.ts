import { STATUS_INDEX_LUA } from './index-scripts.js';
import { RECORD_LAYOUT_LUA } from './record-layout.js';
import type { LuaScript } from './scripts.js';
import { WEBHOOK_OUTBOX_LUA } from './webhook-outbox.js';

/**
 * Lua scripts of containment (CONTRACT §Containment): a held message's moves, each atomic
 * with the indexes that count it (the per-credential and global held sets), so the
 * gauges, POSTWARDEN_HOLD_MAX, release and purge read sets, never history. Same header
 * conventions as scripts.ts.
 */

/**
 * Shared by the message scripts below: every recipient of the record KEYS[1] whose status
 * is a key of `from` gets `state` (JSON); returns how many moved and whether others were
 * left. After RECORD_LAYOUT_LUA; the caller has folded a legacy record (pwFoldLegacy).
 */
const MOVE_RECIPIENTS = `
local function moveRecipients(from, state)
  local all = pwRecipientStates(KEYS[1])
  local moved = {}
  local others = false
  for i = 1, #all, 2 do
    local status = cjson.decode(all[i + 1]).status
    if from[status] then
      moved[#moved + 1] = all[i]
      moved[#moved + 1] = state
    elseif status ~= 'purged' then
      others = true
    end
  end
  pwSetRecipientStates(KEYS[1], moved)
  return #moved / 2, others
end
`;

/**
 * For the webhook outbox: the pending (queued/deferred) recipients of the record KEYS[1]
 * as address / `state` pairs, read before moveRecipients holds them.
 */
const PENDING_AS_HELD = `
local function pendingAsHeld(state)
  local all = pwRecipientStates(KEYS[1])
  local out = {}
  for i = 1, #all, 2 do
    local status = cjson.decode(all[i + 1]).status
    if status == 'queued' or status == 'deferred' then
      out[#out + 1] = all[i]
      out[#out + 1] = state
    end
  end
  return out
end
`;

/**
 * checkBeforeSend — the worker's last look before an attempt: is delivery paused, or is the
 * message's credential on hold? A held credential's pending (queued/deferred) recipients
 * become `held` here, with a `held` event and its index entries.
 * KEYS (12): 1 record, 2 legacy recipients, 3 legacy events (record-layout.ts), 4 held set (credential), 5 held set (all),
 *       6 hold (credential), 7 BullMQ queue meta (its `paused` field is the kill switch),
 *       8-10 webhook wanted set, outbox, event counter (webhook-outbox.ts: one
 *       `message.held` event per recipient held here),
 *       11 status counts hash, 12 status-index prefix (index-scripts.ts)
 * ARGV: 1 held-event entry, 2 message id
 * Returns: 'paused', 'held' (nothing may be sent) or 'go'.
 */
export const CHECK_BEFORE_SEND: LuaScript = {
  name: 'pwCheckBeforeSend',
  numberOfKeys: 12,
  lua: `${RECORD_LAYOUT_LUA}${MOVE_RECIPIENTS}${WEBHOOK_OUTBOX_LUA}${STATUS_INDEX_LUA}${PENDING_AS_HELD}
if redis.call('HEXISTS', KEYS[7], 'paused') == 1 then return 'paused' end
if redis.call('EXISTS', KEYS[6]) == 0 then return 'go' end
if redis.call('EXISTS', KEYS[1]) == 0 then return 'go' end
pwFoldLegacy(KEYS[1], KEYS[2], KEYS[3])
local held = cjson.encode({ status = 'held', detail = 'credential on hold' })
local heldNow = pendingAsHeld(held)
if moveRecipients({ queued = true, deferred = true }, held) == 0 then return 'go' end
webhookOutbox(KEYS[8], KEYS[9], KEYS[10], KEYS[1], heldNow,
  tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0'))
pwSetStatus(KEYS[1], KEYS[11], KEYS[12], 'held')
pwAppendEvents(KEYS[1], { ARGV[1] })
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[2])
return 'held'
`,
};

/**
 * releaseMessage — a held message goes back on the queue: its held recipients become
 * `queued`, a `released` event, out of both held sets. The caller gives it a job.
 * KEYS (7): 1 record, 2 legacy recipients, 3 legacy events (record-layout.ts), 4 held set (credential), 5 held set (all),
 *       6 status counts hash, 7 status-index prefix (index-scripts.ts)
 * ARGV: 1 released-event entry, 2 message id
 * Returns: 1 released, 0 it was not held (already released or purged).
 */
export const RELEASE_MESSAGE: LuaScript = {
  name: 'pwReleaseMessage',
  numberOfKeys: 7,
  lua: `${RECORD_LAYOUT_LUA}${MOVE_RECIPIENTS}${STATUS_INDEX_LUA}
redis.call('SREM', KEYS[5], ARGV[2])
if redis.call('SREM', KEYS[4], ARGV[2]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'held' then return 0 end
pwFoldLegacy(KEYS[1], KEYS[2], KEYS[3])
moveRecipients({ held = true }, cjson.encode({ status = 'queued', detail = '' }))
pwSetStatus(KEYS[1], KEYS[6], KEYS[7], 'queued')
pwAppendEvents(KEYS[1], { ARGV[1] })
return 1
`,
};

/**
 * purgeMessage — an operator ends a message that must never be delivered: its pending
 * (queued, deferred, held) recipients become `purged`, its body is deleted, a `purged`
 * event; the record stays (until retention). Delivered, bounced and expired recipients
 * and messages are never touched: only a message whose status is in ARGV[1] changes.
 * KEYS (8): 1 record, 2 legacy recipients, 3 legacy events (record-layout.ts), 4 held set (credential), 5 held set (all), 6 body,
 *       7 status counts hash, 8 status-index prefix (index-scripts.ts)
 * ARGV: 1 statuses allowed, space-separated (of held, queued, deferred), 2 event entry,
 *       3 message id
 * Returns: 1 purged, 0 not (gone, or in another status).
 */
export const PURGE_MESSAGE: LuaScript = {
  name: 'pwPurgeMessage',
  numberOfKeys: 8,
  lua: `${RECORD_LAYOUT_LUA}${MOVE_RECIPIENTS}${STATUS_INDEX_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
local allowed = false
for word in string.gmatch(ARGV[1], '%S+') do
  if word == status then allowed = true end
end
if not allowed then return 0 end
pwFoldLegacy(KEYS[1], KEYS[2], KEYS[3])
local purged = cjson.encode({ status = 'purged', detail = 'purged by an operator' })
local _, others = moveRecipients({ queued = true, deferred = true, held = true }, purged)
pwSetStatus(KEYS[1], KEYS[7], KEYS[8], others and 'partial' or 'purged')
redis.call('DEL', KEYS[6])
redis.call('SREM', KEYS[4], ARGV[3])
redis.call('SREM', KEYS[5], ARGV[3])
pwAppendEvents(KEYS[1], { ARGV[2] })
return 1
`,
};

/**
 * holdCredential — put a credential on hold (by hand, or by volume at the door).
 * KEYS (3): 1 hold, 2 held credentials set, 3 holds-total hash
 * ARGV: 1 reason (volume|manual), 2 detail, 3 at (ISO-8601), 4 credential name
 * Returns: 1 newly held, 0 it already was.
 */
export const HOLD_CREDENTIAL: LuaScript = {
  name: 'pwHoldCredential',
  numberOfKeys: 3,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'reason', ARGV[1], 'detail', ARGV[2], 'at', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
return 1
`,
};

/**
 * clearHold — end a credential's hold; its hourly count starts again from zero. Its held
 * messages are released one by one afterwards (RELEASE_MESSAGE): from this moment no new
 * message of it is held, so the held set only shrinks.
 * KEYS (3): 1 hold, 2 held credentials set, 3 volume hash
 * ARGV: 1 credential name
 * Returns: 1 it was held, 0 it was not.
 */
export const CLEAR_HOLD: LuaScript = {
  name: 'pwClearHold',
  numberOfKeys: 3,
  lua: `
redis.call('DEL', KEYS[3])
redis.call('SREM', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
`,
};
