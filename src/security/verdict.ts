/**
 * Policy answers with a Denial; each edge translates it in one table
 * (intake/http/errors.ts → HTTP status, intake/smtp/replies.ts → SMTP reply).
 * The codes are the contract's snake_case error codes.
 */
export type DenialCode =
  | 'unauthorized'
  | 'banned'
  | 'sender_not_allowed'
  /** A `From:`/`Sender:` mailbox not granted (SMTP answers 550 after DATA, HTTP 403). */
  | 'header_sender_not_allowed'
  /** A recipient outside the credential's `--allow-to` (SMTP 550 at RCPT, HTTP 403). */
  | 'recipient_not_allowed'
  | 'too_large'
  | 'too_many_recipients'
  | 'rate_limited'
  /** Its credential is on hold and already holds POSTWARDEN_HOLD_MAX messages (CONTRACT §Containment). */
  | 'credential_held'
  | 'invalid_request'
  | 'queue_unavailable';

export interface Denial {
  code: DenialCode;
  /** Safe to show the client: no secrets, no upstream internals. */
  message: string;
  /** For rate_limited: seconds until a retry can succeed. */
  retryAfterSeconds?: number;
}

export function deny(code: DenialCode, message: string, retryAfterSeconds?: number): Denial {
  return retryAfterSeconds === undefined ? { code, message } : { code, message, retryAfterSeconds };
}

export function isDenial(value: unknown): value is Denial {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}
