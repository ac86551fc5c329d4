/** CONTRACT §Webhooks: the delay between tries doubles from the base, capped at 10 h. */
export const WEBHOOK_MAX_DELAY_MS = 10 * 60 * 60 * 1000;

/** Delay after the `failures`-th failed try of one event (1 = the first). */
export function webhookRetryDelay(baseMs: number, failures: number): number {
  const exponent = Math.max(0, Math.min(failures - 1, 40));
  return Math.min(baseMs * 2 ** exponent, WEBHOOK_MAX_DELAY_MS);
}

/**
 * When the try after the `failures`-th failure is due, or undefined when that would be
 * past the event's lifetime (it is given up then).
 */
export function nextWebhookTry(
  policy: { baseMs: number; lifetimeMs: number },
  failures: number,
  eventAtMs: number,
  nowMs: number,
): number | undefined {
  const due = nowMs + webhookRetryDelay(policy.baseMs, failures);
  return due > eventAtMs + policy.lifetimeMs ? undefined : due;
}
