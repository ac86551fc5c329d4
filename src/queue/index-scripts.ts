/**
 * The indexes every status change keeps (issue 11): per-status sorted sets, a counts hash
 * and a capped per-address index. They are Lua fragments spliced into each script that
 * writes a message's `status` (scripts.ts, hold-scripts.ts), so an index is updated in the
 * same atomic step as the state it counts — a crash leaves both old or both new.
 *
 * Status names are handled generically: the set of a status is `prefix .. status`, and a
 * count moves only when ZADD/ZREM really added/removed the id, so counts equal ZCARD of
 * the sets whatever happened before. Only the pending statuses are named (their score is
 * createdAt, for "oldest queued"); every other status is final and scored by its last
 * event, which retention ranges over.
 */

/** Newest message ids kept per address (search reads at most this many per address). */
export const ADDRESS_INDEX_CAP = 1000;

/** Statuses that wait for delivery or an operator; retention never deletes them. */
export const PENDING_STATUSES: readonly string[] = ['queued', 'deferred', 'held'];

/**
 * pwNowMs(): Redis TIME in ms (one clock for every process). pwSetStatus(rec, counts,
 * prefix, to): the message of record key `rec` gets status `to`, moves between the
 * per-status sets and counts; re-scores it when the status stays (a new event).
 */
export const STATUS_INDEX_LUA = `
local pwPending = { queued = true, deferred = true, held = true }
local function pwNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function pwSetStatus(rec, counts, prefix, to)
  local f = redis.call('HMGET', rec, 'id', 'status', 'createdAt', 'retryFrom')
  local id, from = f[1], f[2]
  if not id then return end
  if from and from ~= to and redis.call('ZREM', prefix .. from, id) == 1 then
    redis.call('HINCRBY', counts, from, -1)
  end
  redis.call('HSET', rec, 'status', to)
  -- Pending: since when it waits (an operator retry restarts that); final: its last event.
  local score = pwPending[to] and tonumber(f[4] or f[3] or '0') or pwNowMs()
  if redis.call('ZADD', prefix .. to, score, id) == 1 then
    redis.call('HINCRBY', counts, to, 1)
  end
end
`;

/**
 * pwAddresses(rec): the distinct lower-cased addresses of a message (envelope sender, the
 * From: header's address, every recipient), read from its record, so staging and
 * retention name the same index keys. pwIndexAddresses(rec, prefix, score, id) adds the
 * id to each, trimmed to the newest ADDRESS_INDEX_CAP. After RECORD_LAYOUT_LUA
 * (record-layout.ts).
 */
export const ADDRESS_INDEX_LUA = `
local function pwAddresses(rec)
  local f = redis.call('HMGET', rec, 'envelopeFrom', 'from', 'recipients')
  local seen, list = {}, {}
  local function add(a)
    if a and a ~= '' then
      a = string.lower(a)
      if not seen[a] then seen[a] = true; list[#list + 1] = a end
    end
  end
  add(f[1])
  if f[2] then
    add(string.match(f[2], '<([^<>]+)>%s*$') or string.match(f[2], '^%s*([^%s<>]+@[^%s<>]+)%s*$'))
  end
  -- The recipients: the record's list when it has one (several, or a legacy record),
  -- else its one r: field (record-layout.ts).
  local ok, rcpts = pcall(cjson.decode, f[3] or 'null')
  if ok and type(rcpts) == 'table' then
    for _, a in ipairs(rcpts) do if type(a) == 'string' then add(a) end end
  else
    local states = pwRecipientStates(rec)
    for i = 1, #states, 2 do add(states[i]) end
  end
  return list
end
local function pwIndexAddresses(rec, prefix, score, id)
  for _, a in ipairs(pwAddresses(rec)) do
    local key = prefix .. a
    redis.call('ZADD', key, score, id)
    if redis.call('ZCARD', key) > ${ADDRESS_INDEX_CAP} then
      redis.call('ZREMRANGEBYRANK', key, 0, -${ADDRESS_INDEX_CAP + 1})
    end
  end
end
`;
