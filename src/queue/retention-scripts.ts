import { ADDRESS_INDEX_LUA, STATUS_INDEX_LUA } from './index-scripts.js';
import { RECORD_LAYOUT_LUA } from './record-layout.js';
import type { LuaScript } from './scripts.js';

/**
 * Lua of retention and repair (issue 11). Same header conventions as scripts.ts. Message
 * keys are built in Lua from templates where `{id}` stands for the message id (they come
 * from redis/keys.ts, so that file stays the only place that names keys).
 */

const KEY_TEMPLATES = `
local function pwKey(template, id) return (string.gsub(template, '{id}', id)) end
`;

/**
 * deleteExpired — one retention batch: up to ARGV[3] messages of final status ARGV[1]
 * whose last event is older than ARGV[2] ms (by Redis TIME) are deleted whole — record
 * (with its recipients and events: record-layout.ts; a legacy record's own two keys too),
 * body, time-index, captured-index, address-index and status-index entries, and their
 * Idempotency-Key while it still names them — and counted out, all in this one call. A
 * status-index entry whose record is gone or has another status is only dropped. Pending
 * statuses are refused, so no caller can delete a queued, deferred or held message.
 * Several processes may run it at once: each call takes what is old *now*.
 * KEYS (3): 1 status counts hash, 2 time index (messageIndex), 3 captured index
 *       (capturedIndex: the capture upstream's mailbox; the files go after, by the ids)
 * ARGV: 1 status, 2 retention ms, 3 batch size, 4 status-index prefix, 5 address-index
 *       prefix, 6 record template, 7 recipients template, 8 events template, 9 body
 *       template, 10 idempotency template (`{cred}`, `{hash}`)
 * Returns: the ids deleted (their captured mail goes next, outside Redis).
 */
export const DELETE_EXPIRED: LuaScript = {
  name: 'pwDeleteExpired',
  numberOfKeys: 3,
  lua: `${RECORD_LAYOUT_LUA}${STATUS_INDEX_LUA}${ADDRESS_INDEX_LUA}${KEY_TEMPLATES}
local status = ARGV[1]
if pwPending[status] then return redis.error_reply('ERR retention never deletes ' .. status) end
local set = ARGV[4] .. status
local cutoff = pwNowMs() - tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', set, '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[3]))
local deleted = {}
for _, id in ipairs(ids) do
  local rec = pwKey(ARGV[6], id)
  local f = redis.call('HMGET', rec, 'status', 'credentialId', 'idem')
  if f[1] == status then
    for _, a in ipairs(pwAddresses(rec)) do redis.call('ZREM', ARGV[5] .. a, id) end
    if f[3] then
      local idem = string.gsub(string.gsub(ARGV[10], '{cred}', f[2] or ''), '{hash}', f[3])
      if redis.call('GET', idem) == id then redis.call('DEL', idem) end
    end
    redis.call('DEL', rec, pwKey(ARGV[7], id), pwKey(ARGV[8], id), pwKey(ARGV[9], id))
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    deleted[#deleted + 1] = id
  end
  if redis.call('ZREM', set, id) == 1 then redis.call('HINCRBY', KEYS[1], status, -1) end
end
return deleted
`,
};

/**
 * reindexMessage — repair one message's index entries from its record: out of every other
 * status set it is wrongly in (ARGV[3], space-separated statuses), into its own (scored
 * by retryFrom or createdAt when pending, else by its last event, ARGV[4] ms; an existing
 * score is kept), into the time index and its address indexes; counts follow each real move.
 * KEYS (3): 1 record, 2 status counts hash, 3 time index
 * ARGV: 1 status-index prefix, 2 address-index prefix, 3 statuses to clean, 4 last event ms
 * Returns: 1 when something was fixed, 0 when it was right, -1 no such record.
 */
export const REINDEX_MESSAGE: LuaScript = {
  name: 'pwReindexMessage',
  numberOfKeys: 3,
  lua: `${RECORD_LAYOUT_LUA}${STATUS_INDEX_LUA}${ADDRESS_INDEX_LUA}
local f = redis.call('HMGET', KEYS[1], 'id', 'status', 'createdAt', 'retryFrom')
local id, status, created = f[1], f[2] or 'queued', f[3] or '0'
if not id then return -1 end
local fixed = 0
for s in string.gmatch(ARGV[3], '%S+') do
  if s ~= status and redis.call('ZREM', ARGV[1] .. s, id) == 1 then
    redis.call('HINCRBY', KEYS[2], s, -1)
    fixed = 1
  end
end
local score = pwPending[status] and (f[4] or created) or ARGV[4]
if redis.call('ZADD', ARGV[1] .. status, 'NX', score, id) == 1 then
  redis.call('HINCRBY', KEYS[2], status, 1)
  fixed = 1
end
if redis.call('ZADD', KEYS[3], 'NX', created, id) == 1 then fixed = 1 end
pwIndexAddresses(KEYS[1], ARGV[2], created, id)
return fixed
`,
};

/**
 * dropStaleIndexEntry — a status-set entry whose record is gone (or has another status)
 * leaves the set and its count.
 * KEYS (2): 1 record, 2 status counts hash
 * ARGV: 1 status-index prefix, 2 status, 3 id
 * Returns: 1 dropped, 0 the entry is right.
 */
export const DROP_STALE_INDEX_ENTRY: LuaScript = {
  name: 'pwDropStaleIndexEntry',
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'status') == ARGV[2] then return 0 end
if redis.call('ZREM', ARGV[1] .. ARGV[2], ARGV[3]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
return 1
`,
};

/**
 * recountStatuses — set each count to the size of its status set (both change together in
 * every script, so this is exact even while messages move).
 * KEYS (1): 1 status counts hash
 * ARGV: 1 status-index prefix, 2.. statuses
 * Returns: flat status/count pairs.
 */
export const RECOUNT_STATUSES: LuaScript = {
  name: 'pwRecountStatuses',
  numberOfKeys: 1,
  lua: `
local out = {}
for i = 2, #ARGV do
  local n = redis.call('ZCARD', ARGV[1] .. ARGV[i])
  if n > 0 then redis.call('HSET', KEYS[1], ARGV[i], n) else redis.call('HDEL', KEYS[1], ARGV[i]) end
  out[#out + 1] = ARGV[i]
  out[#out + 1] = n
end
return out
`,
};
