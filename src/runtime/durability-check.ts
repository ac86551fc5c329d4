import type { Config } from '../config/load.js';
import { PostwardenError } from '../errors.js';
import { LogEvent } from '../observability/events.js';
import type { Logger } from '../observability/logger.js';
import type { DurabilityMonitor } from '../redis/durability.js';

/**
 * CONTRACT §Configuration: a Redis that may evict (maxmemory-policy other than
 * noeviction) or, under `fsync`, lose an acknowledged write stops start-up; `memory`
 * mode only warns.
 */
export async function checkStartupDurability(
  durability: DurabilityMonitor,
  config: Readonly<Config>,
  logger: Logger,
): Promise<void> {
  const state = await durability.refresh();
  if (!state.noeviction) throw new PostwardenError('bad_redis', state.reason);
  if (!state.ok) {
    throw new PostwardenError(
      'durability_not_met',
      `${state.reason}. Postwarden will not say "accepted" for mail Redis could lose.`,
    );
  }
  if (config.durability === 'memory') {
    logger.warn(
      { event: LogEvent.durabilityChanged, durability: 'memory' },
      'POSTWARDEN_DURABILITY=memory: accepted messages can be lost if Redis crashes',
    );
  }
}
