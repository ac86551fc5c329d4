/**
 * A new message's delivery job, written by the stage script itself (STAGE_MESSAGE) in
 * BullMQ's own format, so that record, body and job are one script — one command, one
 * round trip, no MULTI and no second script (issue 14: BullMQ's add, with its job object
 * and msgpack arguments, was a large share of the intake's cost per message).
 *
 * It writes exactly what BullMQ 6.7.0's addStandardJob writes for a job with a custom id,
 * no parent, no delay, no priority, no deduplication (what MailQueue adds): the job counter,
 * the events stream's length setting, the job hash (name, data, opts, timestamp, delay,
 * priority), the `added` and `waiting` events, the id on the wait list, and the marker that
 * wakes a worker unless the queue is paused or at its global concurrency. An id that
 * already has a job is left alone (BullMQ's duplicate, minus its event). bullmq is pinned
 * to that version in package.json; test/integration/delivery-job-format.test.ts compares
 * this job with one BullMQ adds, and has a BullMQ worker run it.
 */
export const BULLMQ_VERSION_WRITTEN = '6.7.0';

/**
 * `pwAddDeliveryJob(kJob, kWait, kMeta, kId, kActive, kEvents, kMarker, id, name,
 * optsJson, timestamp)`; the job's data is `{"id":"<id>"}` (message ids are
 * [A-Za-z0-9] only: message/ids.ts).
 */
export const DELIVERY_JOB_LUA = `
local function pwAddDeliveryJob(kJob, kWait, kMeta, kId, kActive, kEvents, kMarker, id, name, optsJson, timestamp)
  redis.call('INCR', kId)
  -- One read of the meta hash for all three (the script is atomic: nothing changes them
  -- between BullMQ's two reads either).
  local meta = redis.call('HMGET', kMeta, 'opts.maxLenEvents', 'paused', 'concurrency')
  local maxEvents = meta[1]
  if not maxEvents then
    maxEvents = 10000
    redis.call('HSET', kMeta, 'opts.maxLenEvents', maxEvents)
  end
  if redis.call('EXISTS', kJob) == 1 then return end
  redis.call('HSET', kJob, 'name', name, 'data', '{"id":"' .. id .. '"}', 'opts', optsJson,
    'timestamp', timestamp, 'delay', 0, 'priority', 0)
  redis.call('XADD', kEvents, '*', 'event', 'added', 'jobId', id, 'name', name)
  local pausedOrMaxed = false
  if meta[2] then
    pausedOrMaxed = true
  elseif meta[3] then
    pausedOrMaxed = redis.call('LLEN', kActive) >= tonumber(meta[3])
  end
  redis.call('LPUSH', kWait, id)
  if not pausedOrMaxed then redis.call('ZADD', kMarker, 0, '0') end
  redis.call('XADD', kEvents, 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', id)
end
`;
