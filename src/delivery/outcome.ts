import type { DeliveryOutcome } from '../message/types.js';
import type { RecipientResult } from '../upstream/types.js';

/**
 * The one place where an upstream reply or error becomes an outcome (CONTRACT §Delivery,
 * ARCHITECTURE §4): 2xx → delivered; 5xx → bounced; 4xx, timeouts, refused connections,
 * TLS failures → deferred. Pure, so every rule is unit-tested without a network.
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
 * Failures of our side or of the connection, whatever reply code they carry: a STARTTLS
 * refused with 5xx is a TLS failure (defer, never downgrade), a 421 greeting a closed door.
 */
const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'ETLS',
  'EDNS',
  'EPROTOCOL',
  'EPROXY',
  'EREQUIRETLS',
  'ESTREAM',
]);

/** Our misconfiguration (wrong or missing upstream credentials): defer and alert. */
const MISCONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'ECONFIG', 'EOAUTH2']);

/**
 * 530 "authentication required" / 538 "encryption required": the upstream wants a login
 * we did not make — our configuration, not the message. Retrying after the fix works.
 */
const AUTH_REQUIRED_CODES = new Set([530, 538]);

const MAX_DETAIL_LENGTH = 300;

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
  if (
    (error.code && MISCONFIGURATION_CODES.has(error.code)) ||
    (error.responseCode !== undefined && AUTH_REQUIRED_CODES.has(error.responseCode))
  ) {
    return { outcome: 'deferred', detail, misconfiguration: true };
  }
  if (error.code && TRANSIENT_CODES.has(error.code)) {
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

/** Errors whose reply line says it all: a refusal of the envelope or of the message. */
const REPLY_ONLY_CODES = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * The upstream's reply for a refusal; otherwise the error's code and text, which name the
 * step that failed (nodemailer appends the reply to it, e.g. a refused STARTTLS).
 */
export function describeFailure(error: SmtpFailure): string {
  const replyOnly = error.response && (!error.code || REPLY_ONLY_CODES.has(error.code));
  return cleanDetail(
    replyOnly ? (error.response as string) : `${error.code ?? 'error'}: ${error.message}`,
  );
}

/** One line, bounded: details are shown in the API, the CLI and the admin page. */
export function cleanDetail(text: string): string {
  const line = text.replace(/[\r\n\0]+/g, ' ').trim();
  return line.length > MAX_DETAIL_LENGTH ? `${line.slice(0, MAX_DETAIL_LENGTH - 1)}…` : line;
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
