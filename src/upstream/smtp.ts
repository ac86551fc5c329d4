import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from 'pino';
import type { UpstreamSpec } from '../config/parse.js';
import { classifyError, resultsFromTransaction, type SmtpFailure } from '../delivery/outcome.js';
import { LogEvent } from '../observability/events.js';
import {
  type OutgoingMessage,
  type RecipientResult,
  resultsForAll,
  type Upstream,
  UpstreamUnreachableError,
} from './types.js';

export type SmtpSpec = Extract<UpstreamSpec, { kind: 'smtp' }>;

/** Lower than nodemailer's defaults (2 min connect, 10 min socket; GOTCHAS §nodemailer). */
export interface SmtpTimeouts {
  connectionMs: number;
  greetingMs: number;
  socketMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectionMs: 10_000,
  greetingMs: 10_000,
  socketMs: 60_000,
};

export interface SmtpUpstreamOptions {
  /** Extra trusted CA (PEM) — tests; production uses NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | undefined;
  timeouts?: Partial<SmtpTimeouts> | undefined;
  logger?: Logger | undefined;
}

/** nodemailer keeps the RCPT bookkeeping of the transaction in flight here (not in its types). */
interface EnvelopeState {
  accepted?: unknown;
  rejectedErrors?: unknown;
}

/**
 * An SMTP provider, one connection per delivery, on nodemailer's SMTP client. We drive
 * SMTPConnection ourselves rather than the Mail transport because only here do we know
 * the phase of a failure: a failure while connecting (refused, timeout, TLS, no
 * STARTTLS) has answered no recipient, so the failover chain may try the next upstream;
 * and after DATA we still have the RCPT replies, so an end-of-DATA error applies only
 * to the recipients accepted at RCPT. Raw bytes go out unchanged: there is no message
 * composition at all, so nothing can read a file or a URL.
 */
export function createSmtpUpstream(spec: SmtpSpec, options: SmtpUpstreamOptions = {}): Upstream {
  const timeouts = { ...DEFAULT_SMTP_TIMEOUTS, ...options.timeouts };
  const connectionOptions: SMTPConnection.Options = {
    host: spec.host,
    port: spec.port,
    secure: spec.tls === 'implicit',
    // CONTRACT: smtp:// means STARTTLS required — never downgraded to cleartext.
    requireTLS: spec.tls === 'starttls',
    // ?tls=off only when written so: no STARTTLS even if offered.
    ignoreTLS: spec.tls === 'off',
    opportunisticTLS: false,
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    dnsTimeout: timeouts.connectionMs,
    tls: {
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ...(options.ca ? { ca: options.ca } : {}),
    },
    logger: false,
    debug: false,
  };
  return {
    label: spec.label,
    send: (message) => sendOnce(spec, connectionOptions, message, options.logger),
    async close() {
      // One connection per delivery: nothing stays open between sends.
    },
  };
}

async function sendOnce(
  spec: SmtpSpec,
  connectionOptions: SMTPConnection.Options,
  message: OutgoingMessage,
  logger: Logger | undefined,
): Promise<RecipientResult[]> {
  const connection = new SMTPConnection(connectionOptions);
  const to = message.envelope.to;
  try {
    try {
      await step<void>(connection, (done) => connection.connect((err) => done(err ?? null)));
    } catch (error) {
      throw new UpstreamUnreachableError(spec.label, classifyError(asFailure(error)).detail, {
        cause: error,
      });
    }
    if (spec.auth) {
      // CONTRACT: upstream AUTH is never skipped — we log in whether or not AUTH is
      // advertised; a server without AUTH fails the login (EAUTH → deferred, alert).
      const auth = spec.auth;
      try {
        await step<boolean | undefined>(connection, (done) =>
          connection.login({ user: auth.user, pass: auth.pass }, done),
        );
      } catch (error) {
        return failAll(spec, message, asFailure(error), logger);
      }
    }
    const envelope: SMTPConnection.Envelope = {
      // The null sender (bounces) is MAIL FROM:<>.
      from: message.envelope.from === '' ? false : message.envelope.from,
      to,
      size: message.raw.length,
    };
    try {
      const info = await step<SMTPConnection.SentMessageInfo>(connection, (done) =>
        connection.send(envelope, message.raw, done),
      );
      return resultsFromTransaction(to, {
        accepted: info.accepted,
        rejectedErrors: (info.rejectedErrors ?? []).map(asFailure),
        final: { ok: true, response: info.response },
      });
    } catch (error) {
      return resultsAfterSendError(spec, connection, message, asFailure(error), logger);
    }
  } finally {
    closeQuietly(connection);
  }
}

function resultsAfterSendError(
  spec: SmtpSpec,
  connection: SMTPConnection,
  message: OutgoingMessage,
  failure: SmtpFailure & { rejectedErrors?: unknown; command?: string },
  logger: Logger | undefined,
): RecipientResult[] {
  const to = message.envelope.to;
  // Every recipient refused at RCPT: nodemailer hands their errors on the error itself.
  if (Array.isArray(failure.rejectedErrors) && failure.rejectedErrors.length > 0) {
    return resultsFromTransaction(to, {
      accepted: [],
      rejectedErrors: failure.rejectedErrors.map(asFailure),
      final: { ok: false, error: failure },
    });
  }
  const state = (connection as unknown as { _envelope?: EnvelopeState })._envelope;
  if (failure.command !== 'MAIL FROM' && state && Array.isArray(state.accepted)) {
    return resultsFromTransaction(to, {
      accepted: state.accepted.filter((item): item is string => typeof item === 'string'),
      rejectedErrors: Array.isArray(state.rejectedErrors)
        ? state.rejectedErrors.map(asFailure)
        : [],
      final: { ok: false, error: failure },
    });
  }
  return failAll(spec, message, failure, logger);
}

function failAll(
  spec: SmtpSpec,
  message: OutgoingMessage,
  failure: SmtpFailure,
  logger: Logger | undefined,
): RecipientResult[] {
  const verdict = classifyError(failure);
  if (verdict.misconfiguration) {
    logger?.error(
      {
        event: LogEvent.upstreamError,
        upstream: spec.label,
        messageId: message.id,
        detail: verdict.detail,
      },
      'upstream refused our login or configuration: check the upstream URL credentials',
    );
  }
  return resultsForAll(message.envelope.to, verdict.outcome, verdict.detail);
}

/**
 * Run one SMTPConnection step as a promise. Socket failures arrive as 'error' events
 * (not always through the step's callback), and a close with nothing said ends it too.
 */
function step<T>(
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

function asFailure(error: unknown): SmtpFailure & { rejectedErrors?: unknown; command?: string } {
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

function closeQuietly(connection: SMTPConnection): void {
  // Late socket errors after we are done must not become unhandled 'error' events.
  connection.on('error', () => {});
  try {
    if (connection.stage === 'connected' && !connection.destroyed) connection.quit();
    else connection.close();
  } catch {
    connection.close();
  }
}
