/**
 * Webhook event types (CONTRACT §Webhooks), one per recipient outcome: `message.<status>`.
 * The outbox Lua writes any status generically; these are the ones an endpoint may ask for.
 */
export const WEBHOOK_EVENT_TYPES = [
  'message.queued',
  'message.delivered',
  'message.deferred',
  'message.bounced',
  'message.expired',
  'message.suppressed',
  'message.held',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What an endpoint gets without --events: every outcome, `message.queued` only when asked. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES.filter(
  (type) => type !== 'message.queued',
);

/**
 * `--events` as written: a comma-separated list of types, with or without `message.`
 * (`delivered,bounced` = `message.delivered,message.bounced`). Undefined for an unknown one.
 */
export function parseEventTypes(
  text: string,
): { ok: true; events: WebhookEventType[] } | { ok: false; unknown: string } {
  const events: WebhookEventType[] = [];
  for (const word of text.split(',').map((part) => part.trim())) {
    if (word === '') continue;
    const type = word.startsWith('message.') ? word : `message.${word}`;
    const known = WEBHOOK_EVENT_TYPES.find((candidate) => candidate === type);
    if (!known) return { ok: false, unknown: word };
    if (!events.includes(known)) events.push(known);
  }
  if (events.length === 0) return { ok: false, unknown: text };
  return { ok: true, events };
}

/** The body an endpoint receives (CONTRACT §Webhooks): no message content, no secrets. */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: {
    id: string;
    credential: string;
    recipient: string;
    status: string;
    detail: string;
    attempts: number;
  };
}

/** One outbox entry as the Lua writes it (queue/webhook-outbox.ts). */
export interface OutboxEvent {
  id: string;
  type: string;
  at: number;
  message: string;
  credential: string;
  credentialId: string;
  recipient: string;
  status: string;
  detail: string;
  attempts: number;
}

export function payloadOf(event: OutboxEvent): WebhookPayload {
  return {
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: {
      id: event.message,
      credential: event.credential,
      recipient: event.recipient,
      status: event.status,
      detail: event.detail,
      attempts: event.attempts,
    },
  };
}
