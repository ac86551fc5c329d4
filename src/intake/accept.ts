import type { Logger } from 'pino';
import { messageSize } from '../message/body-source.js';
import type { Submission } from '../message/types.js';
import { LogEvent } from '../observability/events.js';
import { ClientBanned, CredentialsChanged, type Staged, type Staging } from '../queue/staging.js';
import type { DurabilityMonitor } from '../redis/durability.js';
import type { Credential, CredentialStore } from '../security/credentials/store.js';
import type { CredentialRateLimiter } from '../security/rate-limit.js';
import { isRecipientAllowed, isSenderAllowed } from '../security/sender-policy.js';
import { type Denial, deny } from '../security/verdict.js';

/** Who is submitting: an authenticated credential from a client address. */
export interface Principal {
  credential: Credential;
  ip: string;
  /**
   * A lead form (`form:NAME`, intake/forms): checked by its route on every post, it has
   * no secret whose rotation the door must re-check.
   */
  form?: boolean;
  /**
   * The client address's ban key (AbuseGuard.banKeyOf): the stage step refuses the
   * message while it exists, in the same step as its write. Set by the HTTP routes, whose
   * fast path checks the ban only there (intake/http/auth.ts).
   */
  banKey?: string | undefined;
}

export interface AcceptDeps {
  /** Re-checks, at the door, that the principal's credential and secret are still current. */
  credentials: CredentialStore;
  staging: Staging;
  durability: DurabilityMonitor;
  rateLimiter: CredentialRateLimiter;
  limits: { maxRecipients: number; maxMessageBytes: number };
  logger: Logger;
  /** Called once per newly queued message (metrics). */
  onAccepted?: (protocol: Submission['protocol']) => void;
}

export type AcceptResult =
  /** `held`: its credential is on hold; kept durably, not delivered until released. */
  | { accepted: true; id: string; duplicate: boolean; held: boolean }
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

/** `--allow-to`: every recipient (to, cc, bcc; RCPT) must match one pattern, if any is set. */
export function checkRecipient(credential: Credential, address: string): Denial | undefined {
  return isRecipientAllowed(credential.allowTo, address)
    ? undefined
    : deny('recipient_not_allowed', `recipient ${address} is not granted to this credential`);
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

export function checkPolicy(
  deps: AcceptDeps,
  credential: Credential,
  submission: Submission,
): Denial | undefined {
  if (messageSize(submission) > deps.limits.maxMessageBytes) {
    return deny('too_large', `message exceeds ${deps.limits.maxMessageBytes} bytes`);
  }
  if (submission.envelope.to.length === 0) return deny('invalid_request', 'no recipients');
  if (submission.envelope.to.length > recipientLimit(deps, credential)) {
    return deny('too_many_recipients', `more than ${recipientLimit(deps, credential)} recipients`);
  }
  for (const address of submission.envelope.to) {
    const refused = checkRecipient(credential, address);
    if (refused) return refused;
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
 * Current credential → policy → durability → rate → stage (record, body and delivery job
 * together, one script: queue/staging) → id. "Accepted" is returned only after the
 * staging resolved.
 */
export async function acceptSubmission(
  deps: AcceptDeps,
  principal: Principal,
  submission: Submission,
): Promise<AcceptResult> {
  try {
    let credential = principal.form
      ? principal.credential
      : await lastKnownCredential(deps, principal.credential);
    if (!credential) return refused(STALE_CREDENTIAL);
    const refusalFor = (current: Credential) =>
      checkPolicy(deps, current, submission) ?? checkDurableQueue(deps);
    const denial = refusalFor(credential);
    if (denial) return refused(denial);
    const limited = await deps.rateLimiter.consume(credential.name, credential.ratePerMinute);
    if (limited) return refused(limited);
    for (let attempt = 1; ; attempt++) {
      try {
        return await stageAs(deps, principal, credential, submission);
      } catch (error) {
        if (!(error instanceof CredentialsChanged) || attempt === STAGE_ATTEMPTS) throw error;
      }
      // Some credential changed since this one was read: read it again and decide anew.
      credential = await deps.credentials.current(principal.credential);
      if (!credential) return refused(STALE_CREDENTIAL);
      const again = refusalFor(credential);
      if (again) return refused(again);
    }
  } catch (error) {
    if (error instanceof ClientBanned) return refused(BANNED);
    return refused(queueFailure(deps, error));
  }
}

const BANNED = deny('banned', 'this client address is banned');

/** Tries at staging while other credentials keep changing meanwhile, then 451/503. */
const STAGE_ATTEMPTS = 3;

/**
 * The principal's credential as last read by this process, when the store knows the
 * version it was read at: the stage script then checks that nothing changed since, in
 * the same step as the write, so the door's re-check costs no read of its own. Otherwise
 * (a credential the store did not hand out) it is read now.
 */
async function lastKnownCredential(
  deps: AcceptDeps,
  held: Credential,
): Promise<Credential | undefined> {
  const latest = deps.credentials.latest(held);
  return deps.credentials.readAt(latest) === undefined ? deps.credentials.current(held) : latest;
}

async function stageAs(
  deps: AcceptDeps,
  principal: Principal,
  credential: Credential,
  submission: Submission,
): Promise<AcceptResult> {
  const { useWaitAof, waitReplicas } = deps.durability.state;
  const staged = await deps.staging.stage(
    { id: credential.id, name: credential.name },
    submission,
    {
      waitAof: useWaitAof,
      waitReplicas,
      holdAbove: credential.holdAbove,
      // A form's principal is checked by its route on every post (intake/forms).
      credentialsVersion: principal.form ? undefined : deps.credentials.readAt(credential),
      banKey: principal.banKey,
    },
  );
  if (!staged) return refused(heldFull());
  if (!staged.duplicate) recordAccepted(deps, credential, submission, staged);
  if (staged.heldNow) logVolumeHold(deps, credential);
  return { accepted: true, id: staged.id, duplicate: staged.duplicate, held: staged.held };
}

/**
 * The door re-checks that the principal's credential and secret are still current
 * (CredentialStore.current): HTTP authenticates each request before its body is read and
 * SMTP once per session, so either can reach here after a rotate, revoke or re-create,
 * and an old secret queues nothing more (CONTRACT §CLI). The stage script makes the check
 * (the credentials version is still the one the credential was read at) in the same step
 * as the write; only after a change is the credential read again.
 */
const STALE_CREDENTIAL = deny(
  'unauthorized',
  'the credential was rotated or revoked since this client authenticated; authenticate again',
);

function refused(denial: Denial): AcceptResult {
  return { accepted: false, denial };
}

/** A newly queued message (not a repeated Idempotency-Key): metrics and the log line. */
function recordAccepted(
  deps: AcceptDeps,
  credential: Credential,
  submission: Submission,
  staged: Staged,
): void {
  deps.onAccepted?.(submission.protocol);
  deps.logger.info(
    {
      event: LogEvent.messageAccepted,
      messageId: staged.id,
      held: staged.held,
      protocol: submission.protocol,
      credential: credential.name,
      recipients: submission.envelope.to.length,
      size: messageSize(submission),
    },
    'message queued',
  );
}

/** This message took its credential past --hold-above: it is held from now on. */
function logVolumeHold(deps: AcceptDeps, credential: Credential): void {
  deps.logger.warn(
    { event: LogEvent.credentialHeld, credential: credential.name, reason: 'volume' },
    'credential put on hold: too many messages in the trailing hour',
  );
}

/** The credential is on hold and already holds POSTWARDEN_HOLD_MAX: a temporary refusal. */
function heldFull(): Denial {
  return deny('credential_held', 'this credential is on hold and holds the most it may; try later');
}

function queueFailure(deps: AcceptDeps, error: unknown): Denial {
  const reason = error instanceof Error ? error.message : String(error);
  deps.logger.error(
    { event: LogEvent.queueUnavailable, err: { message: reason } },
    'enqueue failed',
  );
  return deny('queue_unavailable', 'queue unavailable, try again later');
}
