import { loadConfig } from '../config/load.js';
import { LogEvent } from '../observability/events.js';
import { composeRelay } from './compose.js';
import type { Role } from './roles.js';

export interface RunningRelay {
  /** Resolves true when every step finished cleanly within the deadline. Idempotent. */
  shutdown(reason: string): Promise<boolean>;
}

/** Where the banner goes (stdout); logs are pino JSON lines beside it. */
export type Print = (line: string) => void;

/**
 * `postwarden start`: the configuration from the environment, the relay from the one
 * composition root (compose.ts), then listen and print where. A failure while starting
 * stops whatever already runs and rethrows.
 */
export async function bootRelay(role: Role, print: Print): Promise<RunningRelay> {
  const relay = await composeRelay(loadConfig(), { role });
  try {
    const started = await relay.start();
    for (const line of [
      ...started.banner,
      '',
      "Create a credential:  npx postwarden credentials create shop --allow-from '*@example.com'",
    ]) {
      print(line);
    }
    relay.logger.info({ event: LogEvent.listening, role }, 'postwarden started');
    return { shutdown: (reason) => relay.close(reason) };
  } catch (error) {
    await relay.close('start-up failed');
    throw error;
  }
}
