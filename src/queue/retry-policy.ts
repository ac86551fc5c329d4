/**
 * When to try again (CONTRACT §Configuration): the first retry after `baseMs`, doubling
 * each time, ±20 % jitter, never more than `maxDelayMs`, and never past the message's
 * expiry — the last try happens at the deadline. Pure: the caller passes time and chance.
 */
export interface RetryPolicy {
  baseMs: number;
  maxDelayMs: number;
  lifetimeMs: number;
}

/** Delay before try number `failedAttempts + 1`, given `failedAttempts` ≥ 1 failures so far. */
export function retryDelayMs(policy: RetryPolicy, failedAttempts: number, random: number): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 40);
  const nominal = Math.min(policy.baseMs * 2 ** exponent, policy.maxDelayMs);
  const jittered = nominal * (0.8 + 0.4 * random);
  return Math.round(Math.min(jittered, policy.maxDelayMs));
}

/** The moment a message accepted at `createdAtMs` expires. */
export function expiresAt(policy: RetryPolicy, createdAtMs: number): number {
  return createdAtMs + policy.lifetimeMs;
}

/**
 * The delay to schedule after a deferral, or undefined when the lifetime is over and the
 * pending recipients must expire now.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  failedAttempts: number,
  createdAtMs: number,
  nowMs: number,
  random: number,
): number | undefined {
  const remaining = expiresAt(policy, createdAtMs) - nowMs;
  if (remaining <= 0) return undefined;
  return Math.max(0, Math.min(retryDelayMs(policy, failedAttempts, random), remaining));
}
