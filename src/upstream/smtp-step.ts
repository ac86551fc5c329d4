import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SmtpFailure } from '../delivery/outcome.js';

/** A nodemailer error as we read it, with what it says about the transaction in flight. */
export type SendFailure = SmtpFailure & { rejectedErrors?: unknown; command?: string };

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
