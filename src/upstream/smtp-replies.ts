import { cleanDetail } from '../message/detail.js';
import type { DeliveryOutcome } from '../message/types.js';
import type { RecipientResult } from './types.js';

/**
 * The one place where an upstream reply or error becomes an outcome (CONTRACT §Delivery,
 * ARCHITECTURE §4): 2xx → delivered; 5xx → bounced; 4xx, timeouts, refused connections,
 * TLS failures → deferred. The sender classifies its own replies (Postal's SendResult).
 * Pure, so every rule is unit-tested without a network.
 */

/** The parts of a nodemailer error we read (see NodemailerError in nodemailer's errors.d.ts). */
export interface SmtpFailure {
  message: string;
  code?: string | undefined;
  responseCode?: number | undefined;
  response?: string | undefined;
  recipient?: string | undefined;
}

/**
 * What a nodemailer error code means, whatever reply code the error carries:
 * - `transient`: a failure of our side or of the connection. A STARTTLS refused with 5xx
 *   is a TLS failure (defer, never downgrade), a 421 greeting a closed door.
 * - `misconfiguration`: ours (wrong or missing upstream credentials): defer and alert.
 * - `refusal`: the upstream refused the envelope or the message; its reply line says it all
 *   and its reply code decides.
 * `sessionGone`: the session itself is gone (closed, reset, silent), as opposed to a reply
 * about the message — a reused session failing so may be replaced by a fresh one.
 */
interface ErrorCodeMeaning {
  meaning: 'transient' | 'misconfiguration' | 'refusal';
  sessionGone: boolean;
}

const ERROR_CODES: ReadonlyMap<string, ErrorCodeMeaning> = new Map<string, ErrorCodeMeaning>([
  ['ECONNECTION', { meaning: 'transient', sessionGone: true }],
  ['ESOCKET', { meaning: 'transient', sessionGone: true }],
  ['ETIMEDOUT', { meaning: 'transient', sessionGone: true }],
  ['ETLS', { meaning: 'transient', sessionGone: false }],
  ['EDNS', { meaning: 'transient', sessionGone: false }],
  ['EPROTOCOL', { meaning: 'transient', sessionGone: false }],
  ['EPROXY', { meaning: 'transient', sessionGone: false }],
  ['EREQUIRETLS', { meaning: 'transient', sessionGone: false }],
  ['ESTREAM', { meaning: 'transient', sessionGone: false }],
  ['EAUTH', { meaning: 'misconfiguration', sessionGone: false }],
  ['ENOAUTH', { meaning: 'misconfiguration', sessionGone: false }],
  ['ECONFIG', { meaning: 'misconfiguration', sessionGone: false }],
  ['EOAUTH2', { meaning: 'misconfiguration', sessionGone: false }],
  ['EENVELOPE', { meaning: 'refusal', sessionGone: false }],
  ['EMESSAGE', { meaning: 'refusal', sessionGone: false }],
]);

function lookUp(code: string | undefined): ErrorCodeMeaning | undefined {
  return code ? ERROR_CODES.get(code) : undefined;
}

/**
 * 530 "authentication required" / 538 "encryption required": the upstream wants a login
 * we did not make — our configuration, not the message. Retrying after the fix works.
 */
const AUTH_REQUIRED_CODES = new Set([530, 538]);

/** An SMTP reply code → outcome. */
export function classifyReplyCode(code: number): DeliveryOutcome {
  if (code >= 200 && code < 300) return 'delivered';
  if (AUTH_REQUIRED_CODES.has(code)) return 'deferred';
  // 503 "bad sequence of commands" judges our session, not the message (nodemailer's
  // isPermanentResponseCode makes the same exception): the next attempt can succeed.
  if (code >= 500 && code < 600 && code !== 503) return 'bounced';
  return 'deferred';
}

export interface ErrorVerdict {
  outcome: DeliveryOutcome;
  detail: string;
  /** True when the fix is ours (credentials, configuration): log it as an error. */
  misconfiguration: boolean;
}

/** A nodemailer error → outcome. No reply code means the reply never came: transient. */
export function classifyError(error: SmtpFailure): ErrorVerdict {
  const detail = describeFailure(error);
  const meaning = lookUp(error.code)?.meaning;
  if (
    meaning === 'misconfiguration' ||
    (error.responseCode !== undefined && AUTH_REQUIRED_CODES.has(error.responseCode))
  ) {
    return { outcome: 'deferred', detail, misconfiguration: true };
  }
  if (meaning === 'transient') {
    return { outcome: 'deferred', detail, misconfiguration: false };
  }
  if (typeof error.responseCode === 'number') {
    const outcome = classifyReplyCode(error.responseCode);
    // An error is never a delivery, even if it quotes a 2xx line.
    return {
      outcome: outcome === 'delivered' ? 'deferred' : outcome,
      detail,
      misconfiguration: false,
    };
  }
  return { outcome: 'deferred', detail, misconfiguration: false };
}

/** The upstream refused the envelope or the message (and may have kept the session). */
export function isRefusal(error: SmtpFailure): boolean {
  return lookUp(error.code)?.meaning === 'refusal';
}

/**
 * A session failure that means the session is gone (closed, reset, silent, or the server's
 * 421 "closing"), as opposed to a reply about the message.
 */
export function isSessionGone(error: SmtpFailure): boolean {
  if (error.responseCode === 421) return true;
  return error.responseCode === undefined && lookUp(error.code)?.sessionGone === true;
}

/**
 * The upstream's reply for a refusal; otherwise the error's code and text, which name the
 * step that failed (nodemailer appends the reply to it, e.g. a refused STARTTLS).
 */
export function describeFailure(error: SmtpFailure): string {
  const replyOnly = error.response && (!error.code || isRefusal(error));
  return cleanDetail(
    replyOnly ? (error.response as string) : `${error.code ?? 'error'}: ${error.message}`,
  );
}

export interface TransactionReplies {
  /** Recipients the upstream accepted at RCPT TO. */
  accepted: string[];
  /** Per-recipient errors for those it refused at RCPT TO. */
  rejectedErrors: SmtpFailure[];
  /** The reply to the end of DATA: a 2xx line, or the error that refused the message. */
  final: { ok: true; response: string } | { ok: false; error: SmtpFailure };
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * One transaction's replies → one result per recipient. A recipient refused at RCPT keeps
 * that reply; the end-of-DATA reply applies to every recipient accepted at RCPT; a
 * recipient the upstream never answered is deferred.
 */
export function resultsFromTransaction(
  recipients: string[],
  replies: TransactionReplies,
): RecipientResult[] {
  const final = replies.final.ok
    ? {
        outcome: classifyReplyCode(replyCode(replies.final.response)),
        detail: cleanDetail(replies.final.response),
      }
    : classifyError(replies.final.error);
  return recipients.map((address) => {
    const refusal = replies.rejectedErrors.find(
      (error) => error.recipient !== undefined && sameAddress(error.recipient, address),
    );
    if (refusal) return { address, ...pick(classifyError(refusal)) };
    if (replies.accepted.some((accepted) => sameAddress(accepted, address))) {
      return { address, outcome: final.outcome, detail: final.detail };
    }
    return {
      address,
      outcome: 'deferred',
      detail: 'no reply from the upstream for this recipient',
    };
  });
}

function pick(verdict: ErrorVerdict): { outcome: DeliveryOutcome; detail: string } {
  return { outcome: verdict.outcome, detail: verdict.detail };
}

/** The leading reply code of a response line; 250 when a success line has none. */
function replyCode(response: string): number {
  const match = /^(\d{3})/.exec(response.trim());
  return match ? Number(match[1]) : 250;
}
