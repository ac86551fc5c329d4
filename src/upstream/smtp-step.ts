import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { isSessionGone, type SmtpFailure } from './smtp-replies.js';

/** A nodemailer error as we read it, with what it says about the transaction in flight. */
export type SendFailure = SmtpFailure & { rejectedErrors?: unknown; command?: string };

/**
 * nodemailer keeps the RCPT bookkeeping of the transaction in flight on the envelope object
 * we hand to send() (it adopts that very object; not in its types).
 */
export interface EnvelopeState {
  accepted?: unknown;
  rejectedErrors?: unknown;
}

/**
 * Run one SMTPConnection step as a promise. Socket failures arrive as 'error' events
 * (not always through the step's callback), and a close with nothing said ends it too.
 */
export function step<T>(
  connection: SMTPConnection,
  run: (done: (err: Error | null, result?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, result?: T) => {
      if (settled) return;
      settled = true;
      connection.off('error', onError);
      connection.off('end', onEnd);
      if (err) reject(err);
      else resolve(result as T);
    };
    const onError = (err: Error) => finish(err);
    const onEnd = () =>
      finish(
        Object.assign(new Error('connection closed by the upstream'), { code: 'ECONNECTION' }),
      );
    connection.on('error', onError);
    connection.once('end', onEnd);
    run(finish);
  });
}

export function asFailure(error: unknown): SendFailure {
  if (error && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    return {
      message: typeof e.message === 'string' ? e.message : String(error),
      code: typeof e.code === 'string' ? e.code : undefined,
      responseCode: typeof e.responseCode === 'number' ? e.responseCode : undefined,
      response: typeof e.response === 'string' ? e.response : undefined,
      recipient: typeof e.recipient === 'string' ? e.recipient : undefined,
      rejectedErrors: e.rejectedErrors,
      command: typeof e.command === 'string' ? e.command : undefined,
    };
  }
  return { message: String(error) };
}

/**
 * True when a reused session failed as a session (closed, timed out, 421) before any
 * recipient got a reply: then no DATA was sent (nodemailer sends the body only after a
 * recipient was accepted), so the message can go out on another session without a
 * duplicate.
 */
export function goneBeforeAnyReply(failure: SmtpFailure, envelope: EnvelopeState): boolean {
  if (!isSessionGone(failure)) return false;
  const answered =
    (Array.isArray(envelope.accepted) && envelope.accepted.length > 0) ||
    (Array.isArray(envelope.rejectedErrors) && envelope.rejectedErrors.length > 0);
  return !answered;
}
