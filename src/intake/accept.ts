import type { Logger } from 'pino';
import { QueueUnavailableError } from '../errors.js';
import { newMessageId } from '../message/ids.js';
import type { Submission } from '../message/types.js';
import { LogEvent } from '../observability/events.js';
import type { MailQueue } from '../queue/mail-queue.js';
import { type MessageStore, stagedOwner } from '../queue/message-store.js';
import type { DurabilityMonitor } from '../redis/durability.js';
import type { Credential } from '../security/credentials/store.js';
import type { CredentialRateLimiter } from '../security/rate-limit.js';
import { isSenderAllowed } from '../security/sender-policy.js';
import { type Denial, deny } from '../security/verdict.js';

/** Who is submitting: an authenticated credential from a client address. */
export interface Principal {
  credential: Credential;
  ip: string;
}

export interface AcceptDeps {
  store: MessageStore;
  queue: MailQueue;
  durability: DurabilityMonitor;
  rateLimiter: CredentialRateLimiter;
  limits: { maxRecipients: number; maxMessageBytes: number };
  logger: Logger;
  /** Called once per newly queued message (metrics). */
  onAccepted?: (protocol: Submission['protocol']) => void;
}

export type AcceptResult =
  | { accepted: true; id: string; duplicate: boolean }
  | { accepted: false; denial: Denial };

export function recipientLimit(deps: Pick<AcceptDeps, 'limits'>, credential: Credential): number {
  const own = credential.maxRecipients;
  return own === undefined ? deps.limits.maxRecipients : Math.min(own, deps.limits.maxRecipients);
}

export function checkEnvelopeSender(credential: Credential, from: string): Denial | undefined {
  return isSenderAllowed(credential.allowFrom, from)
    ? undefined
    : deny('sender_not_allowed', `sender ${from || '<>'} is not granted to this credential`);
}

export function checkHeaderSenders(credential: Credential, senders: string[]): Denial | undefined {
  const refused = senders.find((address) => !isSenderAllowed(credential.allowFrom, address));
  return refused === undefined && senders.length > 0
    ? undefined
    : deny(
        'header_sender_not_allowed',
        `header sender ${refused ?? '(none)'} is not granted to this credential`,
      );
}

function checkPolicy(
  deps: AcceptDeps,
  principal: Principal,
  submission: Submission,
): Denial | undefined {
  const { credential } = principal;
  if (submission.raw.length > deps.limits.maxMessageBytes) {
    return deny('too_large', `message exceeds ${deps.limits.maxMessageBytes} bytes`);
  }
  if (submission.envelope.to.length === 0) return deny('invalid_request', 'no recipients');
  if (submission.envelope.to.length > recipientLimit(deps, credential)) {
    return deny('too_many_recipients', `more than ${recipientLimit(deps, credential)} recipients`);
  }
  return (
    checkEnvelopeSender(credential, submission.envelope.from) ??
    checkHeaderSenders(credential, submission.headerSenders)
  );
}

function checkDurableQueue(deps: AcceptDeps): Denial | undefined {
  const state = deps.durability.state;
  if (state.ok) return undefined;
  // The reason (Redis version, settings) is for operators (/readyz, logs), not clients.
  deps.logger.warn(
    { event: LogEvent.queueUnavailable, reason: state.reason },
    'durability not met',
  );
  return deny('queue_unavailable', 'queue unavailable, try again later');
}

/**
 * The one door (ARCHITECTURE §1): every message from HTTP and SMTP comes through here.
 * Policy → durability → rate → stage record and body + durable enqueue (together, one
 * round trip) → id. "Accepted" is returned only after both resolved.
 */
export async function acceptSubmission(
  deps: AcceptDeps,
  principal: Principal,
  submission: Submission,
): Promise<AcceptResult> {
  const denial = checkPolicy(deps, principal, submission) ?? checkDurableQueue(deps);
  if (denial) return { accepted: false, denial };
  try {
    const limited = await deps.rateLimiter.consume(
      principal.credential.name,
      principal.credential.ratePerMinute,
    );
    if (limited) return { accepted: false, denial: limited };
    const staged = await stageAndEnqueue(deps, principal, submission);
    if (staged.existing) return await finishRepeat(deps, staged);
    deps.onAccepted?.(submission.protocol);
    deps.logger.info(
      {
        event: LogEvent.messageAccepted,
        messageId: staged.id,
        protocol: submission.protocol,
        credential: principal.credential.name,
        recipients: submission.envelope.to.length,
        size: submission.raw.length,
      },
      'message queued',
    );
    return { accepted: true, id: staged.id, duplicate: false };
  } catch (error) {
    return { accepted: false, denial: queueFailure(deps, error) };
  }
}

interface Staged {
  /** The message that owns the submission: the new one, or the first for a repeated key. */
  id: string;
  existing: boolean;
  /** The id this call tried; its job was added even when the key was a repeat. */
  triedId: string;
}

/** Record, body and delivery job in one MULTI, one round trip (MailQueue.enqueueWith). */
async function stageAndEnqueue(
  deps: AcceptDeps,
  principal: Principal,
  submission: Submission,
): Promise<Staged> {
  const id = newMessageId();
  const credential = principal.credential.name;
  // A large body goes ahead in pieces (MessageStore.uploadBody); the MULTI takes it over.
  const upload = await deps.store.uploadBody(id, submission.raw);
  try {
    const reply = await deps.queue.enqueueWith(
      id,
      (connection) =>
        deps.store.sendStage(connection, id, credential, submission, Date.now(), upload),
      { waitAof: deps.durability.state.useWaitAof },
    );
    return { ...stagedOwner(id, reply), triedId: id };
  } catch (error) {
    // Sent after the MULTI on the same connection: if that did commit, there is nothing left.
    if (upload) deps.store.discardUpload(upload);
    throw error;
  }
}

/**
 * A repeated Idempotency-Key. A job was added for the id this request tried, which owns
 * no record: remove it, best effort (a worker that gets there first finds no record and
 * drops it). The first request may have been staged without its job by an older version
 * (stage and enqueue were two steps then, and a crash between them left the record
 * queued with no job), so finish it now (a duplicate add of an existing job id is a
 * no-op). Job first, record second: a job removed after completion always left a final
 * status behind.
 */
async function finishRepeat(deps: AcceptDeps, staged: Staged): Promise<AcceptResult> {
  await deps.queue.discardJob(staged.triedId).catch(() => {});
  const id = staged.id;
  if (!(await deps.queue.hasJob(id))) {
    const stored = await deps.store.get(id);
    if (stored && stored.status === 'queued' && stored.attempts === 0) {
      await deps.queue.enqueue(id, { waitAof: deps.durability.state.useWaitAof });
    }
  }
  return { accepted: true, id, duplicate: true };
}

function queueFailure(deps: AcceptDeps, error: unknown): Denial {
  const reason = error instanceof QueueUnavailableError ? error.message : (error as Error).message;
  deps.logger.error(
    { event: LogEvent.queueUnavailable, err: { message: reason } },
    'enqueue failed',
  );
  return deny('queue_unavailable', 'queue unavailable, try again later');
}
