import type { Logger } from 'pino';
import { LogEvent } from '../observability/events.js';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

/**
 * Runs the shutdown steps in order (stop accepting → drain workers → close queues and
 * Redis → stop the embedded Redis), each error-tolerant, all within `deadlineMs`.
 * Idempotent: a second call returns the same promise. The steps are listed when the
 * shutdown begins, so whatever started up to then is stopped.
 */
export function createShutdown(
  listSteps: () => ShutdownStep[],
  logger: Logger,
  deadlineMs: number,
) {
  let running: Promise<boolean> | undefined;
  return function shutdown(reason: string): Promise<boolean> {
    running ??= (async () => {
      logger.info({ event: LogEvent.shutdown, reason }, 'shutting down');
      const deadline = Date.now() + deadlineMs;
      let clean = true;
      for (const step of listSteps()) {
        const left = deadline - Date.now();
        if (left <= 0) {
          logger.error({ event: LogEvent.shutdown, step: step.name }, 'shutdown deadline passed');
          return false;
        }
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            step.run(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('step timed out')), left);
            }),
          ]);
        } catch (error) {
          clean = false;
          logger.error(
            { event: LogEvent.shutdown, step: step.name, err: error },
            'shutdown step failed',
          );
        } finally {
          clearTimeout(timer);
        }
      }
      return clean;
    })();
    return running;
  };
}
