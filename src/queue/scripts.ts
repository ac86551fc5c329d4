import type { Redis, Result } from 'ioredis';
import { DELIVERY_JOB_LUA } from './delivery-job.js';
import { ADDRESS_INDEX_LUA, STATUS_INDEX_LUA } from './index-scripts.js';
import { EVENTS_FIELD, RECORD_LAYOUT_LUA } from './record-layout.js';
import { WEBHOOK_OUTBOX_LUA } from './webhook-outbox.js';

/**
 * Lua scripts of queue/ (Staging and MessageStore). Each is atomic, so a record is never
 * half written: a crash leaves the old state or the new one. Each declaration carries its
 * key count beside its KEYS/ARGV/returns header (BullMQ's `name-<nkeys>.lua`); it is
 * defined on a connection with defineScripts and called with runScript, which checks it.
 */
export interface LuaScript {
  /** The command ioredis defines for it on a connection (declared below). */
  readonly name: ScriptName;
  readonly numberOfKeys: number;
  readonly lua: string;
}

type ScriptName =
  | 'pwStageMessage'
  | 'pwRecordOutcome'
  | 'pwMarkRetried'
  | 'pwCheckBeforeSend'
  | 'pwReleaseMessage'
  | 'pwPurgeMessage'
  | 'pwHoldCredential'
  | 'pwClearHold'
  | 'pwWebhookWanted'
  | 'pwDeleteExpired'
  | 'pwReindexMessage'
  | 'pwDropStaleIndexEntry'
  | 'pwRecountStatuses';

// What `defineCommand` adds to a connection, typed (ioredis's documented way). Only
// defineScripts defines them and only runScript calls them.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    pwStageMessage(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwRecordOutcome(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwMarkRetried(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwCheckBeforeSend(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwReleaseMessage(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwPurgeMessage(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwHoldCredential(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwClearHold(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwWebhookWanted(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwDeleteExpired(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwReindexMessage(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwDropStaleIndexEntry(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwRecountStatuses(...args: (string | Buffer)[]): Result<unknown, Context>;
  }
}

export function defineScripts(redis: Redis, ...scripts: LuaScript[]): void {
  for (const { name, numberOfKeys, lua } of scripts) {
    redis.defineCommand(name, { numberOfKeys, lua });
  }
}

/**
 * Run `script` (defined on `redis` by defineScripts) with its KEYS and ARGV. The command is
 * sent synchronously, so this may be called inside inTransaction; a wrong key count throws
 * before anything is sent.
 */
export function runScript(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | Buffer)[],
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new Error(`${script.name} takes ${script.numberOfKeys} keys, not ${keys.length}`);
  }
  return redis[script.name](...keys, ...args);
}

/**
 * stageMessage — write a new message's body, record, recipients, first event and index
 * entry; with an Idempotency-Key, only if the key is new. Counts the message in its
 * credential's trailing hour (per-minute fields, older ones pruned here: at most 61) and
 * puts the credential on hold when that count passes its threshold; a message of a held
 * credential is written `held` (and indexed as such), or refused when the credential
 * already has HOLD_MAX held (CONTRACT §Containment).
 * The record holds the recipients' states and the events (record-layout.ts).
 * KEYS (26): 1 record, 2 body, 3 index, 4 idempotency key,
 *       5 the body written ahead (Staging.uploadBody), or KEYS[2] when the body is ARGV[4],
 *       6 hold, 7 held set (credential), 8 held set (all), 9 volume hash,
 *       10 held credentials set, 11 holds-total hash,
 *       12-14 webhook wanted set, outbox, event counter (webhook-outbox.ts: one
 *       `message.queued` or `message.held` event per recipient when wanted),
 *       15 status counts hash, 16 status-index key prefix, 17 address-index key prefix
 *       (prefixes, not keys: the status or address is appended in Lua; index-scripts.ts),
 *       18-24 the delivery job: job hash, wait, meta, id, active, events, marker
 *       (MailQueue.jobKey and queueKeys; written in BullMQ's format: delivery-job.ts),
 *       25 the credentials version counter (CredentialStore), 26 the client's ban key
 *       (AbuseGuard.banKeyOf; checked only when ARGV[17] is '1')
 * ARGV: 1 id, 2 createdAt ms, 3 idempotency TTL s ('0' = no key), 4 body ('' when uploaded),
 *       5 event entry, 6 record field-pair count N, 7 epoch minute, 8 hold threshold
 *       ('0' = never), 9 HOLD_MAX, 10 held-event entry, 11 credential name, 12 hold detail,
 *       13 now ISO-8601, 14 job name, 15 job opts JSON (MailQueue.jobArgs), 16 the
 *       credentials version the submitter's credential was read at ('' = not checked),
 *       17 '1' to refuse the message when KEYS[26] exists,
 *       18.. N field/value pairs, then address/state-JSON pairs
 * A banned client (KEYS[26] exists, ARGV[17] '1') writes nothing: {'', 'banned'}; the HTTP
 * intake's fast path leaves the ban check before the body to this step (intake/http/auth.ts).
 * When the credentials version is no longer ARGV[16], nothing is written and the answer is
 * {'', 'stale'}: the door reads the credential again and decides anew (a rotate or revoke
 * since then refuses it).
 * The delivery job is written with the message, queued or held (a held one's worker finds
 * nothing pending and ends it; release gives it a new job); a repeat or a refusal writes
 * none.
 * An uploaded body becomes the body key by RENAME (no copy), and loses the upload's TTL.
 * A repeat or a refusal deletes its upload at once. A missing upload (expired, or lost
 * with Redis) is an error before anything is written: the message is refused, never
 * stored without a body.
 * Returns: {owner id, disposition}: {ARGV[1], 'queued'}, {ARGV[1], 'held', '1' when this
 * message put the credential on hold else '0'}, {first id, 'duplicate'}
 * for a repeat, {'', 'refused'} past HOLD_MAX (nothing written).
 */
export const STAGE_MESSAGE: LuaScript = {
  name: 'pwStageMessage',
  numberOfKeys: 26,
  lua: `${RECORD_LAYOUT_LUA}${WEBHOOK_OUTBOX_LUA}${STATUS_INDEX_LUA}${ADDRESS_INDEX_LUA}${DELIVERY_JOB_LUA}
if ARGV[17] == '1' and redis.call('EXISTS', KEYS[26]) == 1 then
  return { '', 'banned' }
end
if ARGV[16] ~= '' and (redis.call('GET', KEYS[25]) or '0') ~= ARGV[16] then
  return { '', 'stale' }
end
local uploaded = KEYS[5] ~= KEYS[2]
if ARGV[3] ~= '0' then
  local existing = redis.call('GET', KEYS[4])
  if existing then
    if uploaded then redis.call('DEL', KEYS[5]) end
    return { existing, 'duplicate' }
  end
end
if uploaded and redis.call('EXISTS', KEYS[5]) == 0 then
  return redis.error_reply('ERR staged body upload is missing')
end
local held = redis.call('EXISTS', KEYS[6]) == 1
local heldNow = '0'
if held then
  if redis.call('SCARD', KEYS[7]) >= tonumber(ARGV[9]) then
    if uploaded then redis.call('DEL', KEYS[5]) end
    return { '', 'refused' }
  end
else
  local minute = tonumber(ARGV[7])
  -- The TTL restarts with each new minute's first message, which keeps the hash an hour
  -- past the last minute counted (no EXPIRE per message).
  if redis.call('HINCRBY', KEYS[9], ARGV[7], 1) == 1 then redis.call('EXPIRE', KEYS[9], 3660) end
  local fields = redis.call('HGETALL', KEYS[9])
  local sum = 0
  for i = 1, #fields, 2 do
    if tonumber(fields[i]) <= minute - 60 then redis.call('HDEL', KEYS[9], fields[i])
    else sum = sum + tonumber(fields[i + 1]) end
  end
  local threshold = tonumber(ARGV[8])
  if threshold > 0 and sum > threshold then
    held = true
    heldNow = '1'
    redis.call('HSET', KEYS[6], 'reason', 'volume', 'detail', ARGV[12], 'at', ARGV[13])
    redis.call('SADD', KEYS[10], ARGV[11])
    redis.call('HINCRBY', KEYS[11], 'volume', 1)
  end
end
if ARGV[3] ~= '0' then redis.call('SET', KEYS[4], ARGV[1], 'EX', tonumber(ARGV[3])) end
if uploaded then
  redis.call('RENAME', KEYS[5], KEYS[2])
  redis.call('PERSIST', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[4])
end
local n = tonumber(ARGV[6])
local fields = {}
local named = {}
for i = 18, 17 + 2 * n, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
  named[ARGV[i]] = ARGV[i + 1]
end
-- Written with its status, so the record is not read back to index it (pwIndexNewStatus).
if held then
  fields[#fields + 1] = 'status'
  fields[#fields + 1] = 'held'
end
local rcpts = {}
local heldState = cjson.encode({ status = 'held', detail = 'credential on hold' })
for i = 18 + 2 * n, #ARGV, 2 do
  rcpts[#rcpts + 1] = ARGV[i]
  rcpts[#rcpts + 1] = held and heldState or ARGV[i + 1]
  fields[#fields + 1] = pwRcptPrefix .. ARGV[i]
  fields[#fields + 1] = rcpts[#rcpts]
end
fields[#fields + 1] = '${EVENTS_FIELD}'
fields[#fields + 1] = held and (ARGV[5] .. '\\n' .. ARGV[10]) or ARGV[5]
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
webhookOutbox(KEYS[12], KEYS[13], KEYS[14], KEYS[1], rcpts, 0)
pwIndexAddressList(
  pwAddressesOf(named.envelopeFrom, named.from, named.recipients, function() return rcpts end),
  KEYS[17], ARGV[2], ARGV[1])
pwIndexNewStatus(KEYS[15], KEYS[16], held and 'held' or 'queued', ARGV[1], tonumber(ARGV[2]))
pwAddDeliveryJob(KEYS[18], KEYS[19], KEYS[20], KEYS[21], KEYS[22], KEYS[23], KEYS[24],
  ARGV[1], ARGV[14], ARGV[15], ARGV[2])
if held then
  redis.call('SADD', KEYS[7], ARGV[1])
  redis.call('SADD', KEYS[8], ARGV[1])
  return { ARGV[1], 'held', heldNow }
end
return { ARGV[1], 'queued' }
`,
};

/**
 * recordOutcome — apply one delivery attempt's per-recipient results (the delivered mark:
 * once written, those recipients are never sent to again), append events, count the
 * attempt, and recompute the message status from all recipients.
 * A recipient's state only moves forward: `delivered` is never overwritten, and a
 * `bounced`/`expired`/`suppressed` one changes only to `delivered`. A worker frozen past its job lock
 * (SIGSTOP, a VM pause) may report late, after another worker finished the job; its
 * "deferred: timeout" must not undo that delivery (it would leave the message deferred
 * with no job left to deliver it). Its events are still kept, as history.
 * KEYS (8): 1 record, 2 legacy recipients, 3 legacy events (record-layout.ts: folded into
 *       the record first), 4 status counts hash, 5 status-index prefix
 *       (index-scripts.ts; the same five as MARK_RETRIED), 6-8 webhook wanted set,
 *       outbox, event counter (webhook-outbox.ts: one event per recipient update applied)
 * ARGV: 1 count-attempt ('1'/'0'), 2 number of recipient updates U,
 *       3.. U address/state-JSON pairs, then event entries
 * Returns: the new message status.
 */
export const RECORD_OUTCOME: LuaScript = {
  name: 'pwRecordOutcome',
  numberOfKeys: 8,
  lua: `${RECORD_LAYOUT_LUA}${WEBHOOK_OUTBOX_LUA}${STATUS_INDEX_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
pwFoldLegacy(KEYS[1], KEYS[2], KEYS[3])
local u = tonumber(ARGV[2])
local updates = {}
for i = 3, 2 + 2 * u, 2 do
  local current = pwRecipientState(KEYS[1], ARGV[i])
  local from = current and cjson.decode(current).status or 'queued'
  local to = cjson.decode(ARGV[i + 1]).status
  local final = from == 'bounced' or from == 'expired' or from == 'suppressed'
  if from ~= 'delivered' and (not final or to == 'delivered') then
    updates[#updates + 1] = ARGV[i]
    updates[#updates + 1] = ARGV[i + 1]
  end
end
pwSetRecipientStates(KEYS[1], updates)
local entries = {}
for i = 3 + 2 * u, #ARGV do entries[#entries + 1] = ARGV[i] end
pwAppendEvents(KEYS[1], entries)
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if ARGV[1] == '1' then
  attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
end
webhookOutbox(KEYS[6], KEYS[7], KEYS[8], KEYS[1], updates, attempts)
local seen = {}
local pending = false
local deferred = false
local kinds = 0
local last = nil
local all = pwRecipientStates(KEYS[1])
for i = 2, #all, 2 do
  local status = cjson.decode(all[i]).status
  if status == 'queued' then pending = true end
  if status == 'deferred' then pending = true; deferred = true end
  if not seen[status] then seen[status] = true; kinds = kinds + 1; last = status end
end
local status
if pending then
  if deferred or attempts > 0 then status = 'deferred' else status = 'queued' end
elseif kinds == 1 then status = last
else status = 'partial' end
pwSetStatus(KEYS[1], KEYS[4], KEYS[5], status)
return status
`,
};

/**
 * markRetried — operator retry: every `bounced`/`expired`/`suppressed` recipient goes back
 * to `queued` (a suppressed one still listed is suppressed again by the worker, without an
 * upstream attempt; one removed from the list since is sent to),
 * the lifetime restarts at ARGV[1] (`retryFrom`), a `retried` event is appended and the
 * status becomes `queued`. Refused while a recipient is still pending (a delivery owns it).
 * KEYS (5): 1 record, 2 legacy recipients, 3 legacy events (record-layout.ts), 4 status
 *       counts hash, 5 status-index prefix
 * ARGV: 1 retryFrom ms, 2 event entry
 * Returns: the number of recipients reset; -1 no such message; -2 still being delivered.
 */
export const MARK_RETRIED: LuaScript = {
  name: 'pwMarkRetried',
  numberOfKeys: 5,
  lua: `${RECORD_LAYOUT_LUA}${STATUS_INDEX_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
pwFoldLegacy(KEYS[1], KEYS[2], KEYS[3])
local all = pwRecipientStates(KEYS[1])
local reset = {}
for i = 1, #all, 2 do
  local state = cjson.decode(all[i + 1])
  if state.status == 'queued' or state.status == 'deferred' then return -2 end
  if state.status == 'bounced' or state.status == 'expired' or state.status == 'suppressed' then
    reset[#reset + 1] = all[i]
    reset[#reset + 1] = cjson.encode({ status = 'queued', detail = '' })
  end
end
if #reset == 0 then return 0 end
pwSetRecipientStates(KEYS[1], reset)
pwAppendEvents(KEYS[1], { ARGV[2] })
redis.call('HSET', KEYS[1], 'retryFrom', ARGV[1])
pwSetStatus(KEYS[1], KEYS[4], KEYS[5], 'queued')
return #reset / 2
`,
};
