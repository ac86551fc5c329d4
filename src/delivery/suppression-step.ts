import type { Logger } from 'pino';
import { cleanDetail } from '../message/detail.js';
import type { MessageStatus, RecipientOutcome } from '../message/types.js';
import { LogEvent } from '../observability/events.js';
import type { DeliveryLoad, MessageStore } from '../queue/message-store.js';
import type { Suppression, SuppressionList } from '../queue/suppressions.js';
import { isAddressBounce } from '../upstream/enhanced-status.js';
import type { RecipientResult } from '../upstream/types.js';

export interface SuppressionDeps {
  store: MessageStore;
  suppressions?: Pick<SuppressionList, 'add' | 'lookup'> | undefined;
  logger: Logger;
  onOutcome?: ((outcome: RecipientOutcome, seconds: number) => void) | undefined;
  now?: () => number;
}

/**
 * The owner of a message's suppression list: its credential's immutable id (a form's is
 * `form:NAME`). Records from before ids existed have none, and are checked against nothing.
 */
function ownerOf(load: DeliveryLoad): string | undefined {
  return load.message.credentialId || undefined;
}

function suppressedDetail(entry: Suppression): string {
  return cleanDetail(`suppressed: ${entry.reason} at ${entry.at}`);
}

/**
 * Before sending (CONTRACT §Delivery): the pending recipients on the owner's list become
 * `suppressed` at once, through recordOutcome like any outcome (so whatever counts or
 * announces outcomes sees them), without an upstream attempt. Returns the load with the
 * others still pending, or the message's status when none is left to send.
 */
export async function skipSuppressed(
  deps: SuppressionDeps,
  load: DeliveryLoad,
): Promise<{ load: DeliveryLoad } | { status: MessageStatus | undefined }> {
  const owner = ownerOf(load);
  if (!deps.suppressions || !owner) return { load };
  const listed = await deps.suppressions.lookup(owner, load.pending);
  if (listed.size === 0) return { load };
  const suppressed = [...listed].map(([address, entry]) => ({
    address,
    status: 'suppressed' as const,
    detail: suppressedDetail(entry),
  }));
  const status = await deps.store.recordOutcome(
    load.message.id,
    suppressed,
    [
      {
        type: 'suppressed',
        detail: cleanDetail(suppressed.map((one) => `${one.address}: ${one.detail}`).join('; ')),
      },
    ],
    false,
    new Date(deps.now?.() ?? Date.now()),
  );
  for (const _ of suppressed) deps.onOutcome?.('suppressed', 0);
  deps.logger.info(
    { event: LogEvent.messageSuppressed, messageId: load.message.id, recipients: listed.size },
    'recipients on the suppression list skipped',
  );
  const pending = load.pending.filter((address) => !listed.has(address));
  return pending.length === 0 ? { status } : { load: { ...load, pending } };
}

/**
 * A recipient the upstream refused because the address itself is bad (5.1.x, 5.2.1) goes
 * on its owner's list (CONTRACT §Suppressions). Called before the bounce is recorded: if
 * the worker dies in between, the job runs again and finds the address suppressed — it is
 * never sent to again either way.
 */
export async function suppressBadAddresses(
  deps: SuppressionDeps,
  load: DeliveryLoad,
  results: RecipientResult[],
): Promise<void> {
  const owner = ownerOf(load);
  if (!deps.suppressions || !owner) return;
  const at = new Date(deps.now?.() ?? Date.now()).toISOString();
  for (const result of results) {
    if (result.outcome !== 'bounced' || !isAddressBounce(result.detail)) continue;
    const added = await deps.suppressions.add({
      owner,
      credential: load.message.credential,
      address: result.address,
      reason: result.detail,
      source: 'bounce',
      at,
    });
    if (added) {
      deps.logger.info(
        {
          event: LogEvent.suppressionAdded,
          messageId: load.message.id,
          credential: load.message.credential,
        },
        'bounced address added to the suppression list',
      );
    }
  }
}
