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

/** A Denial from policy (intake/accept, security) → the SMTP reply for it. */
const DENIAL_REPLIES: Record<DenialCode, Omit<SmtpReply, 'text'>> = {
  unauthorized: { code: 530, enhanced: '5.7.0' },
  banned: { code: 554, enhanced: '5.7.1' },
  sender_not_allowed: { code: 553, enhanced: '5.7.1' },
  header_sender_not_allowed: { code: 550, enhanced: '5.7.1' },
  too_large: { code: 552, enhanced: '5.3.4' },
  too_many_recipients: { code: 452, enhanced: '4.5.3' },
  rate_limited: { code: 451, enhanced: '4.7.1' },
  invalid_request: { code: 550, enhanced: '5.6.0' },
  queue_unavailable: { code: 451, enhanced: '4.3.0' },
};

export function replyForDenial(denial: Denial): SmtpReply {
  const reply = DENIAL_REPLIES[denial.code];
  const retry =
    denial.retryAfterSeconds === undefined ? '' : `; retry in ${denial.retryAfterSeconds}s`;
  return { ...reply, text: `${denial.message}${retry}` };
}

/** Replies to protocol events that are not policy denials. */
export const Replies = {
  authRequired: { code: 530, enhanced: '5.7.0', text: 'Authentication required' },
  authFailed: { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  /** The third failure on one connection; 421 makes smtp-server close the connection. */
  tooManyAuthFailures: {
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many authentication failures, closing connection',
  },
  /** RFC 4954 §6: AUTH in cleartext from a non-loopback client. */
  encryptionRequired: {
    code: 538,
    enhanced: '5.7.11',
    text: 'Encryption required for requested authentication mechanism, use STARTTLS',
  },
  authUnavailable: {
    code: 454,
    enhanced: '4.7.0',
    text: 'Temporary authentication failure, try again later',
  },
  banned: { code: 554, enhanced: '5.7.1', text: 'Your address is banned, closing connection' },
  tooManyConnections: {
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many connections from your address, try again later',
  },
  serviceUnavailable: {
    code: 421,
    enhanced: '4.3.0',
    text: 'Service temporarily unavailable, try again later',
  },
  badSenderSyntax: { code: 501, enhanced: '5.1.7', text: 'Bad sender address syntax' },
  badRecipientSyntax: { code: 553, enhanced: '5.1.3', text: 'Recipient address not allowed' },
  smuggling: {
    code: 550,
    enhanced: '5.6.0',
    text: 'Message contains a bare CR, bare LF or NUL; lines must end with CRLF',
  },
  /**
   * RFC 5322 requires a From: field; without one there is no header sender to check
   * against the grant. A format error (5.6.0) tells the client what to fix; 5.7.1 would
   * send it looking at its grants instead.
   */
  noFromHeader: {
    code: 550,
    enhanced: '5.6.0',
    text: 'Message has no From: header (RFC 5322 requires one)',
  },
  internalError: { code: 451, enhanced: '4.3.0', text: 'Local error, try again later' },
} as const satisfies Record<string, SmtpReply>;

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
