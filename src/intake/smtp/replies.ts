import type { Denial, DenialCode } from '../../security/verdict.js';

/**
 * Every SMTP reply Postwarden chooses itself, in one table (ARCHITECTURE convention 2):
 * the reply code, the enhanced status code (RFC 3463) and the text. No reply numbers
 * appear anywhere else in intake/smtp. The exact codes are fixed by CONTRACT §SMTP
 * submission and tested from outside.
 */
export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

/** `'530 5.7.0 Authentication required'` → its parts: the table reads as the wire does. */
function parseReply(line: string): SmtpReply {
  const match = /^(\d{3}) (\d\.\d{1,3}\.\d{1,3})(?: (.*))?$/.exec(line);
  if (!match) throw new Error(`not an SMTP reply line: ${line}`);
  return { code: Number(match[1]), enhanced: match[2] ?? '', text: match[3] ?? '' };
}

function parseTable<K extends string>(lines: Record<K, string>): Record<K, SmtpReply> {
  const entries = Object.entries<string>(lines).map(([key, line]) => [key, parseReply(line)]);
  return Object.fromEntries(entries) as Record<K, SmtpReply>;
}

/** A Denial from policy (intake/accept, security) → the code and enhanced code of its reply. */
const DENIAL_REPLIES = parseTable<DenialCode>({
  unauthorized: '530 5.7.0',
  banned: '554 5.7.1',
  sender_not_allowed: '553 5.7.1',
  header_sender_not_allowed: '550 5.7.1',
  recipient_not_allowed: '550 5.7.1',
  too_large: '552 5.3.4',
  too_many_recipients: '452 4.5.3',
  rate_limited: '451 4.7.1',
  credential_held: '451 4.7.1',
  invalid_request: '550 5.6.0',
  queue_unavailable: '451 4.3.0',
});

export function replyForDenial(denial: Denial): SmtpReply {
  const reply = DENIAL_REPLIES[denial.code];
  const retry =
    denial.retryAfterSeconds === undefined ? '' : `; retry in ${denial.retryAfterSeconds}s`;
  return { ...reply, text: `${denial.message}${retry}` };
}

/**
 * Replies to protocol events that are not policy denials, each as the client reads it.
 * tooManyAuthFailures: the third failure on one connection; 421 makes smtp-server close
 * it. encryptionRequired: RFC 4954 §6, AUTH in cleartext from a non-loopback client.
 * noFromHeader: RFC 5322 requires a From: field, and without one there is no header
 * sender to check against the grant; a format error (5.6.0) tells the client what to
 * fix, where 5.7.1 would send it looking at its grants instead.
 */
export const Replies = parseTable({
  authRequired: '530 5.7.0 Authentication required',
  authFailed: '535 5.7.8 Authentication credentials invalid',
  tooManyAuthFailures: '421 4.7.0 Too many authentication failures, closing connection',
  encryptionRequired:
    '538 5.7.11 Encryption required for requested authentication mechanism, use STARTTLS',
  authUnavailable: '454 4.7.0 Temporary authentication failure, try again later',
  banned: '554 5.7.1 Your address is banned, closing connection',
  tooManyConnections: '421 4.7.0 Too many connections from your address, try again later',
  serviceUnavailable: '421 4.3.0 Service temporarily unavailable, try again later',
  badSenderSyntax: '501 5.1.7 Bad sender address syntax',
  badRecipientSyntax: '553 5.1.3 Recipient address not allowed',
  smuggling: '550 5.6.0 Message contains a bare CR, bare LF or NUL; lines must end with CRLF',
  noFromHeader: '550 5.6.0 Message has no From: header (RFC 5322 requires one)',
  internalError: '451 4.3.0 Local error, try again later',
  // CONTRACT §SMTP: the process over POSTWARDEN_MAX_INFLIGHT_BYTES; RFC 3463 4.3.1 is
  // "mail system full", a temporary condition the client retries.
  serverBusy: '452 4.3.1 Too much mail in progress, try again later',
});

export function replyTooLarge(maxBytes: number): SmtpReply {
  return replyForDenial({ code: 'too_large', message: `Message exceeds ${maxBytes} bytes` });
}

export function replyTooManyRecipients(limit: number): SmtpReply {
  return replyForDenial({
    code: 'too_many_recipients',
    message: `Too many recipients, at most ${limit} per message`,
  });
}

/** CONTRACT: exactly `250 2.0.0 Ok: queued as ID`, sent only after the durable enqueue. */
export function replyQueued(id: string): SmtpReply {
  return { code: 250, enhanced: '2.0.0', text: `Ok: queued as ${id}` };
}

/**
 * The reply as smtp-server wants it: an error whose responseCode is the code and whose
 * message starts with the enhanced code. The server patches (smtp-server-patches.ts) see
 * the leading enhanced code and keep smtp-server from adding its own fixed mapping.
 */
export function replyError(reply: SmtpReply): Error & { responseCode: number } {
  return Object.assign(new Error(replyText(reply)), { responseCode: reply.code });
}

/** The text after the reply code: `5.7.1 Sender not allowed`. */
export function replyText(reply: SmtpReply): string {
  return `${reply.enhanced} ${reply.text}`;
}

/** The whole reply line, as the client reads it (for logs and tests). */
export function replyLine(reply: SmtpReply): string {
  return `${reply.code} ${replyText(reply)}`;
}
