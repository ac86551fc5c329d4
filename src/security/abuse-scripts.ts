/**
 * The abuse guard's Lua scripts: each decision about a check slot is one atomic step, so
 * guesses sent together from one address cannot all pass a count read before any of them
 * was written (CONTRACT §Abuse guard).
 */

/**
 * RESERVE_CHECK — take a slot to check a secret.
 * KEYS (3): 1 ban, 2 failure count, 3 checks in flight (all of one guard address)
 * ARGV: 1 failures that ban, 2 in-flight cap, 3 TTL of the in-flight counter (s)
 * Returns: 'banned'; 'full' (failures + in flight reached the ban limit, or the cap);
 * 'ok' (the in-flight counter was raised).
 */
export const RESERVE_CHECK = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'banned' end
local failures = tonumber(redis.call('GET', KEYS[2]) or '0')
local inflight = tonumber(redis.call('GET', KEYS[3]) or '0')
if failures + inflight >= tonumber(ARGV[1]) or inflight >= tonumber(ARGV[2]) then
  return 'full'
end
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 'ok'
`;

/**
 * SETTLE_CHECK — give a slot back with the outcome of its check.
 * KEYS (3): as RESERVE_CHECK
 * ARGV: 1 '1' the secret was right / '0' wrong, 2 failure window (s)
 * Returns: for a right secret -1 when the address was banned meanwhile, else 0; for a
 * wrong one the failure count after counting it.
 */
export const SETTLE_CHECK = `
if tonumber(redis.call('DECR', KEYS[3])) <= 0 then redis.call('DEL', KEYS[3]) end
if ARGV[1] == '1' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
  return 0
end
local count = redis.call('INCR', KEYS[2])
if count == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return count
`;
