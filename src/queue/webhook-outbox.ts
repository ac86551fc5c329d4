import type { Keys } from '../redis/keys.js';

/**
 * The webhook outbox (CONTRACT §Webhooks; issue 13): the Lua that records a recipient
 * outcome (RECORD_OUTCOME, STAGE_MESSAGE, CHECK_BEFORE_SEND) also appends one event per
 * recipient outcome to a list, in the same script. So "delivered" and "its event is
 * queued" are one atomic step: a crash between them is impossible. The worker's
 * dispatcher (webhooks/dispatcher.ts) moves the entries into BullMQ jobs.
 *
 * Only event types some enabled endpoint wants (the wanted set, kept by the endpoint
 * store) are written, so a relay without webhooks writes nothing and pays one EXISTS.
 * Statuses are read generically: a status another change adds (e.g. `suppressed`)
 * becomes `message.<status>` without touching this code.
 */

/** The three KEYS each outcome script appends at the end of its list, in this order. */
export function webhookOutboxKeys(keys: Keys): string[] {
  return [keys.webhookWanted(), keys.webhookOutbox(), keys.webhookEventSeq()];
}

/**
 * `webhookOutbox(kWanted, kOutbox, kSeq, kRecord, states, attempts)`: `states` is a flat
 * list of recipient address / state-JSON ({status, detail}) pairs, `kRecord` the
 * message's record hash. Each entry: {id: 'ev<N>', type, at (unix ms, Redis's clock),
 * message, credential, credentialId, recipient, status, detail, attempts} — no content,
 * no secrets.
 */
export const WEBHOOK_OUTBOX_LUA = `
local function webhookOutbox(kWanted, kOutbox, kSeq, kRecord, states, attempts)
  if #states == 0 or redis.call('EXISTS', kWanted) == 0 then return end
  local record = redis.call('HMGET', kRecord, 'id', 'credential', 'credentialId')
  local time = redis.call('TIME')
  local at = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  for i = 1, #states, 2 do
    local state = cjson.decode(states[i + 1])
    local kind = 'message.' .. tostring(state.status)
    if redis.call('SISMEMBER', kWanted, kind) == 1 then
      local seq = redis.call('INCR', kSeq)
      redis.call('RPUSH', kOutbox, cjson.encode({
        id = 'ev' .. seq, type = kind, at = at, message = record[1] or '',
        credential = record[2] or '', credentialId = record[3] or '', recipient = states[i],
        status = state.status, detail = state.detail or '', attempts = attempts }))
    end
  end
end
`;
