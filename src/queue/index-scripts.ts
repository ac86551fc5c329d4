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
 * pwIndexNewStatus(counts, prefix, status, id, score): the same for a record just written
 * with that status (the stage script), which is in no set yet: what pwSetStatus would do,
 * without reading the record back or writing its status again.
 */
export const STATUS_INDEX_LUA = `
local pwPending = { queued = true, deferred = true, held = true }
local function pwNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function pwIndexNewStatus(counts, prefix, status, id, score)
  if redis.call('ZADD', prefix .. status, score, id) == 1 then
    redis.call('HINCRBY', counts, status, 1)
  end
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
 * From: header's address, every recipient), read from its record; pwAddressesOf(envelope
 * sender, From: header, recipients list JSON or nil, function giving the address/state
 * pairs) is the same from the values themselves (the stage script has them at hand), so
 * staging and retention name the same index keys. pwIndexAddressList(list, prefix, score,
 * id) adds the id to each address's index, trimmed to the newest ADDRESS_INDEX_CAP;
 * pwIndexAddresses(rec, prefix, score, id) does it for a record. After RECORD_LAYOUT_LUA
 * (record-layout.ts).
 */
export const ADDRESS_INDEX_LUA = `
local function pwAddressesOf(envelopeFrom, fromHeader, recipientsJson, states)
  local seen, list = {}, {}
  local function add(a)
    if a and a ~= '' then
      a = string.lower(a)
      if not seen[a] then seen[a] = true; list[#list + 1] = a end
    end
  end
  add(envelopeFrom)
  if fromHeader then
    add(string.match(fromHeader, '<([^<>]+)>%s*$') or string.match(fromHeader, '^%s*([^%s<>]+@[^%s<>]+)%s*$'))
  end
  -- The recipients: the record's list when it has one (several, or a legacy record),
  -- else its r: fields (record-layout.ts), read only then (states() gives them).
  local ok, rcpts = pcall(cjson.decode, recipientsJson or 'null')
  if ok and type(rcpts) == 'table' then
    for _, a in ipairs(rcpts) do if type(a) == 'string' then add(a) end end
  else
    local pairs = states()
    for i = 1, #pairs, 2 do add(pairs[i]) end
  end
  return list
end
local function pwAddresses(rec)
  local f = redis.call('HMGET', rec, 'envelopeFrom', 'from', 'recipients')
  return pwAddressesOf(f[1], f[2], f[3], function() return pwRecipientStates(rec) end)
end
local function pwIndexAddressList(list, prefix, score, id)
  for _, a in ipairs(list) do
    local key = prefix .. a
    redis.call('ZADD', key, score, id)
    -- Trimmed to the newest ${ADDRESS_INDEX_CAP} in one call (a no-op below the cap).
    redis.call('ZREMRANGEBYRANK', key, 0, -${ADDRESS_INDEX_CAP + 1})
  end
end
local function pwIndexAddresses(rec, prefix, score, id)
  pwIndexAddressList(pwAddresses(rec), prefix, score, id)
end
`;
