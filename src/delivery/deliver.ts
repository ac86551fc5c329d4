import type { Logger } from 'pino';
import type { BodySource } from '../message/body-source.js';
import { cleanDetail } from '../message/detail.js';
import type {
  DeliveryOutcome,
  EventType,
  MessageStatus,
  RecipientOutcome,
  RecipientStatus,
} from '../message/types.js';
import { LogEvent } from '../observability/events.js';
import type { DeliveryLoad, MessageStore, RecipientUpdate } from '../queue/message-store.js';
import { expiresAt, type RetryPolicy } from '../queue/retry-policy.js';
import type { SuppressionList } from '../queue/suppressions.js';
import {
  type RecipientResult,
  resultsForAll,
  type Upstream,
  UpstreamUnreachableError,
} from '../upstream/types.js';
import { skipSuppressed, suppressBadAddresses } from './suppression-step.js';

export interface DeliverDeps {
  store: MessageStore;
  upstream: Upstream;
  retry: RetryPolicy;
  logger: Logger;
  /** Once per recipient result (delivered/bounced/deferred/expired), with the send's duration. */
  onOutcome?: ((outcome: RecipientOutcome, seconds: number) => void) | undefined;
  now?: () => number;
  /**
   * Whether this attempt still owns its job, asked just before anything is sent. A worker
   * frozen past its job lock (SIGSTOP, a VM pause, a long GC) finds that another worker
   * has the job by now; sending anyway would deliver the message twice.
   */
  stillOwner?: (() => Promise<boolean>) | undefined;
  /**
   * The last look before sending (queue/holds checkBeforeSend): delivery paused (the kill
   * switch), or the message's credential on hold — its pending recipients are held then.
   */
  beforeSend?: ((id: string, credential: string) => Promise<'paused' | 'held' | 'go'>) | undefined;
  /** Suppression lists (CONTRACT §Suppressions): listed recipients are not sent to. */
  suppressions?: Pick<SuppressionList, 'add' | 'lookup'> | undefined;
}

/** How one delivery attempt ended, for the worker to translate into BullMQ's words. */
export type DeliveryEnd =
  | { kind: 'done'; status: MessageStatus }
  /** The message record no longer exists: nothing to send or record. */
  | { kind: 'gone' }
  /** The job lock was lost before sending: nothing was sent or recorded; its new owner delivers. */
  | { kind: 'lost' }
  /** Delivery is paused: nothing was sent; the job waits for resume. */
  | { kind: 'paused' }
  /** Its credential is on hold: nothing was sent; the message is `held` until released. */
  | { kind: 'held' }
  | { kind: 'retry'; lifetimeStartMs: number; detail: string }
  | { kind: 'expired'; detail: string };

/**
 * One delivery attempt (CONTRACT §Delivery) as named steps: load → skip when nothing is
 * pending (a held or purged message has nothing pending) → still the job's owner? → not
 * paused, credential not on hold? → recipients on the suppression list become `suppressed`
 * → send the other pending recipients only → record the outcome atomically (the
 * delivered mark: recorded recipients are never sent again, even if this worker dies
 * right after) → conclude: done, retry after the backoff, or expire.
 */
export async function deliverMessage(deps: DeliverDeps, id: string): Promise<DeliveryEnd> {
  const load = await deps.store.loadForDelivery(id);
  if (!load) return { kind: 'gone' };
  if (load.pending.length === 0) return finishWithoutSending(deps, load);
  if (!load.body) return expirePending(deps, load, 'message body missing from the queue');
  if (deps.stillOwner && !(await deps.stillOwner())) return { kind: 'lost' };
  const verdict = (await deps.beforeSend?.(id, load.message.credential)) ?? 'go';
  if (verdict !== 'go') return { kind: verdict };
  const unsuppressed = await skipSuppressed(deps, load);
  if ('status' in unsuppressed) return finishSuppressed(unsuppressed.status);
  return sendAndRecord(deps, unsuppressed.load, load.body);
}

/** Every pending recipient was suppressed: no upstream connection at all. */
function finishSuppressed(status: MessageStatus | undefined): DeliveryEnd {
  return status === undefined ? { kind: 'gone' } : { kind: 'done', status };
}

async function sendAndRecord(
  deps: DeliverDeps,
  load: DeliveryLoad,
  body: BodySource,
): Promise<DeliveryEnd> {
  const started = performance.now();
  const results = await sendPending(deps, load, body);
  const seconds = (performance.now() - started) / 1000;
  const status = await recordAttempt(deps, load, results, seconds);
  if (status === undefined) return { kind: 'gone' };
  return concludeAttempt(deps, load, results, status);
}

/** A job run again after its outcome was recorded (a crash, a stalled job): nothing to send. */
async function finishWithoutSending(deps: DeliverDeps, load: DeliveryLoad): Promise<DeliveryEnd> {
  if (load.message.status === 'delivered' && load.body)
    await deps.store.deleteBody(load.message.id);
  return { kind: 'done', status: load.message.status };
}

async function sendPending(
  deps: DeliverDeps,
  load: DeliveryLoad,
  body: BodySource,
): Promise<RecipientResult[]> {
  const { message, pending } = load;
  try {
    // The stored bytes unchanged: Message-ID and Date were added at intake.
    const results = await deps.upstream.send({
      id: message.id,
      envelope: { from: message.envelopeFrom, to: pending },
      raw: body,
    });
    return completeResults(pending, results);
  } catch (error) {
    if (!(error instanceof UpstreamUnreachableError)) {
      deps.logger.error(
        { event: LogEvent.deliveryAttempt, messageId: message.id, err: error },
        'upstream failed unexpectedly; deferring',
      );
    }
    return resultsForAll(pending, 'deferred', cleanDetail((error as Error).message));
  }
}

/** Exactly one result per pending recipient; an upstream that forgot one defers it. */
function completeResults(pending: string[], results: RecipientResult[]): RecipientResult[] {
  return pending.map(
    (address) =>
      results.find((result) => result.address === address) ?? {
        address,
        outcome: 'deferred',
        detail: 'no result from the upstream',
      },
  );
}

async function recordAttempt(
  deps: DeliverDeps,
  load: DeliveryLoad,
  results: RecipientResult[],
  seconds: number,
): Promise<MessageStatus | undefined> {
  const updates: RecipientUpdate[] = results.map((result) => ({
    address: result.address,
    status: result.outcome satisfies RecipientStatus,
    detail: result.detail,
  }));
  await suppressBadAddresses(deps, load, results);
  const status = await deps.store.recordOutcome(
    load.message.id,
    updates,
    eventsByOutcome(results),
    true,
    new Date(deps.now?.() ?? Date.now()),
  );
  for (const result of results) deps.onOutcome?.(result.outcome, seconds);
  logAttempt(deps, load, results);
  return status;
}

async function concludeAttempt(
  deps: DeliverDeps,
  load: DeliveryLoad,
  results: RecipientResult[],
  status: MessageStatus,
): Promise<DeliveryEnd> {
  const deferred = results.filter((result) => result.outcome === 'deferred');
  if (deferred.length === 0) {
    // Keep the body of a message with bounced/expired recipients: an operator may retry.
    if (status === 'delivered') await deps.store.deleteBody(load.message.id);
    return { kind: 'done', status };
  }
  const lifetimeStartMs = load.message.retryFromMs ?? load.message.createdAtMs;
  const now = deps.now?.() ?? Date.now();
  if (now >= expiresAt(deps.retry, lifetimeStartMs)) {
    return expirePending(deps, load, `retry lifetime over; last reply: ${deferred[0]?.detail}`);
  }
  return { kind: 'retry', lifetimeStartMs, detail: summarize(deferred) };
}

/** The lifetime is over: every recipient still pending becomes `expired`. */
async function expirePending(
  deps: DeliverDeps,
  load: DeliveryLoad,
  reason: string,
): Promise<DeliveryEnd> {
  const current = await deps.store.loadForDelivery(load.message.id);
  const pending = current?.pending ?? [];
  const detail = cleanDetail(reason);
  await deps.store.recordOutcome(
    load.message.id,
    pending.map((address) => ({ address, status: 'expired', detail })),
    [{ type: 'expired', detail: cleanDetail(`${pending.join(', ')}: ${reason}`) }],
    false,
  );
  for (const _ of pending) deps.onOutcome?.('expired', 0);
  deps.logger.warn(
    {
      event: LogEvent.messageExpired,
      messageId: load.message.id,
      recipients: pending.length,
      detail,
    },
    'message expired',
  );
  return { kind: 'expired', detail };
}

/** One event per outcome kind of this attempt, the upstream replies as its detail. */
function eventsByOutcome(results: RecipientResult[]): { type: EventType; detail: string }[] {
  const kinds: DeliveryOutcome[] = ['delivered', 'bounced', 'deferred'];
  return kinds
    .map((kind) => ({ kind, group: results.filter((result) => result.outcome === kind) }))
    .filter(({ group }) => group.length > 0)
    .map(({ kind, group }) => ({ type: kind, detail: summarize(group) }));
}

function summarize(results: RecipientResult[]): string {
  return results.map((result) => `${result.address}: ${result.detail}`).join('; ');
}

const LOG_EVENT_BY_OUTCOME = {
  delivered: LogEvent.messageDelivered,
  bounced: LogEvent.messageBounced,
  deferred: LogEvent.messageDeferred,
} as const;

function logAttempt(deps: DeliverDeps, load: DeliveryLoad, results: RecipientResult[]): void {
  for (const { type, detail } of eventsByOutcome(results)) {
    const kind = type as DeliveryOutcome;
    const level = kind === 'delivered' ? 'info' : 'warn';
    deps.logger[level](
      {
        event: LOG_EVENT_BY_OUTCOME[kind],
        messageId: load.message.id,
        upstream: deps.upstream.label,
        recipients: results.filter((result) => result.outcome === kind).length,
        attempt: load.message.attempts + 1,
        detail,
      },
      `delivery ${kind}`,
    );
  }
}
