/**
 * Poll `check` every `intervalMs` until it is true; throw once `timeoutMs` has passed
 * without it (polling, never a sleep, is how tests synchronise with what they cannot
 * await). `what` names the condition in the error.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
