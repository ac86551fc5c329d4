import type { Redis, Result } from 'ioredis';

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

type ScriptName = 'pwStageMessage' | 'pwRecordOutcome' | 'pwMarkRetried';

// What `defineCommand` adds to a connection, typed (ioredis's documented way). Only
// defineScripts defines them and only runScript calls them.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    pwStageMessage(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwRecordOutcome(...args: (string | Buffer)[]): Result<unknown, Context>;
    pwMarkRetried(...args: (string | Buffer)[]): Result<unknown, Context>;
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
 * entry; with an Idempotency-Key, only if the key is new.
 * KEYS (7): 1 record, 2 recipients, 3 events, 4 body, 5 index, 6 idempotency key,
 *       7 the body written ahead (Staging.uploadBody), or KEYS[4] when the body is ARGV[4]
 * ARGV: 1 id, 2 createdAt ms, 3 idempotency TTL s ('0' = no key), 4 body ('' when uploaded),
 *       5 event JSON, 6 record field-pair count N, 7.. N field/value pairs, then
 *       address/state-JSON pairs
 * An uploaded body becomes the body key by RENAME (no copy), and loses the upload's TTL.
 * A repeat deletes its upload at once. A missing upload (expired, or lost with Redis) is an
 * error before anything is written: the message is refused, never stored without a body.
 * Returns: the id that owns the key — ARGV[1], or the first message's id for a repeat.
 */
export const STAGE_MESSAGE: LuaScript = {
  name: 'pwStageMessage',
  numberOfKeys: 7,
  lua: `
local uploaded = KEYS[7] ~= KEYS[4]
if ARGV[3] ~= '0' then
  local existing = redis.call('GET', KEYS[6])
  if existing then
    if uploaded then redis.call('DEL', KEYS[7]) end
    return existing
  end
end
if uploaded and redis.call('EXISTS', KEYS[7]) == 0 then
  return redis.error_reply('ERR staged body upload is missing')
end
if ARGV[3] ~= '0' then redis.call('SET', KEYS[6], ARGV[1], 'EX', tonumber(ARGV[3])) end
if uploaded then
  redis.call('RENAME', KEYS[7], KEYS[4])
  redis.call('PERSIST', KEYS[4])
else
  redis.call('SET', KEYS[4], ARGV[4])
end
local n = tonumber(ARGV[6])
local fields = {}
for i = 7, 6 + 2 * n do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
local rcpts = {}
for i = 7 + 2 * n, #ARGV do rcpts[#rcpts + 1] = ARGV[i] end
if #rcpts > 0 then redis.call('HSET', KEYS[2], unpack(rcpts)) end
redis.call('RPUSH', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
return ARGV[1]
`,
};

/**
 * recordOutcome — apply one delivery attempt's per-recipient results (the delivered mark:
 * once written, those recipients are never sent to again), append events, count the
 * attempt, and recompute the message status from all recipients.
 * A recipient's state only moves forward: `delivered` is never overwritten, and a
 * `bounced`/`expired` one changes only to `delivered`. A worker frozen past its job lock
 * (SIGSTOP, a VM pause) may report late, after another worker finished the job; its
 * "deferred: timeout" must not undo that delivery (it would leave the message deferred
 * with no job left to deliver it). Its events are still kept, as history.
 * KEYS (3): 1 record, 2 recipients, 3 events
 * ARGV: 1 count-attempt ('1'/'0'), 2 number of recipient updates U,
 *       3.. U address/state-JSON pairs, then event JSONs
 * Returns: the new message status.
 */
export const RECORD_OUTCOME: LuaScript = {
  name: 'pwRecordOutcome',
  numberOfKeys: 3,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local u = tonumber(ARGV[2])
local updates = {}
for i = 3, 2 + 2 * u, 2 do
  local current = redis.call('HGET', KEYS[2], ARGV[i])
  local from = current and cjson.decode(current).status or 'queued'
  local to = cjson.decode(ARGV[i + 1]).status
  local final = from == 'bounced' or from == 'expired'
  if from ~= 'delivered' and (not final or to == 'delivered') then
    updates[#updates + 1] = ARGV[i]
    updates[#updates + 1] = ARGV[i + 1]
  end
end
if #updates > 0 then redis.call('HSET', KEYS[2], unpack(updates)) end
for i = 3 + 2 * u, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if ARGV[1] == '1' then
  attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
end
local seen = {}
local pending = false
local deferred = false
local kinds = 0
local last = nil
local all = redis.call('HVALS', KEYS[2])
for _, value in ipairs(all) do
  local status = cjson.decode(value).status
  if status == 'queued' then pending = true end
  if status == 'deferred' then pending = true; deferred = true end
  if not seen[status] then seen[status] = true; kinds = kinds + 1; last = status end
end
local status
if pending then
  if deferred or attempts > 0 then status = 'deferred' else status = 'queued' end
elseif kinds == 1 then status = last
else status = 'partial' end
redis.call('HSET', KEYS[1], 'status', status)
return status
`,
};

/**
 * markRetried — operator retry: every `bounced`/`expired` recipient goes back to `queued`,
 * the lifetime restarts at ARGV[1] (`retryFrom`), a `retried` event is appended and the
 * status becomes `queued`. Refused while a recipient is still pending (a delivery owns it).
 * KEYS (3): 1 record, 2 recipients, 3 events
 * ARGV: 1 retryFrom ms, 2 event JSON
 * Returns: the number of recipients reset; -1 no such message; -2 still being delivered.
 */
export const MARK_RETRIED: LuaScript = {
  name: 'pwMarkRetried',
  numberOfKeys: 3,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local all = redis.call('HGETALL', KEYS[2])
local reset = {}
for i = 1, #all, 2 do
  local state = cjson.decode(all[i + 1])
  if state.status == 'queued' or state.status == 'deferred' then return -2 end
  if state.status == 'bounced' or state.status == 'expired' then
    reset[#reset + 1] = all[i]
    reset[#reset + 1] = cjson.encode({ status = 'queued', detail = '' })
  end
end
if #reset == 0 then return 0 end
redis.call('HSET', KEYS[2], unpack(reset))
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[1], 'status', 'queued', 'retryFrom', ARGV[1])
return #reset / 2
`,
};
