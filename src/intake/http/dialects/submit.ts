import type { FastifyRequest } from 'fastify';
import type { Submission } from '../../../message/types.js';
import type { Credential } from '../../../security/credentials/store.js';
import { type Denial, isDenial } from '../../../security/verdict.js';
import { type AcceptDeps, acceptSubmission, checkPolicy } from '../../accept.js';
import { principalOf } from '../auth.js';
import { composeSubmission } from '../compose.js';
import { checkMessageRequest } from '../request-checks.js';
import type { MessageRequest } from '../schemas.js';

/**
 * What every compatible dialect shares (CONTRACT §Compatible APIs): a dialect translates
 * its request into the very MessageRequest the `/v1/messages` route validates, and from
 * there the path is the native one — the same checks (request-checks.ts), the same MIME
 * composition (compose.ts: bcc never in headers) and the same door (accept.ts: grants,
 * limits, holds, idempotency, durability). Only the answers are the dialect's own.
 */

export type Outcome =
  | { accepted: true; id: string; held: boolean }
  | { accepted: false; denial: Denial };

/** A request checked and composed, ready for the door; or why it cannot be. */
export async function prepare(
  request: MessageRequest,
  idempotencyKey: string | undefined,
): Promise<Submission | Denial> {
  const checked = checkMessageRequest(request);
  if (isDenial(checked)) return checked;
  return composeSubmission(checked, { idempotencyKey });
}

/** A prepared submission through the one door, as the native route sends it. */
export async function submit(
  deps: AcceptDeps,
  request: FastifyRequest,
  credential: Credential,
  submission: Submission,
): Promise<Outcome> {
  const result = await acceptSubmission(deps, { ...principalOf(request), credential }, submission);
  return result.accepted
    ? { accepted: true, id: result.id, held: result.held }
    : { accepted: false, denial: result.denial };
}

/**
 * The door's own policy checks, run on every message of an all-or-nothing batch before
 * any is accepted, so a batch refused for a grant or a limit queues none of its messages.
 * The door checks again as each one goes through (the credential may change in between).
 */
export function precheck(credential: Credential, deps: AcceptDeps, submission: Submission) {
  return checkPolicy(deps, credential, submission);
}

/** The credential the dialect's auth hook proved (it answers before a handler runs without). */
export function credentialOf(request: FastifyRequest): Credential {
  if (!request.apiCredential) throw new Error('dialect route reached without a credential');
  return request.apiCredential;
}

/** An Idempotency-Key per message of a batch, that no client-chosen key can equal (NUL). */
export function batchItemKey(key: string | undefined, index: number): string | undefined {
  return key === undefined ? undefined : `${key}\0batch:${index}`;
}

/** `application/json` (with parameters), as the native route requires. */
export function isJsonBody(request: FastifyRequest): boolean {
  return /^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '');
}
