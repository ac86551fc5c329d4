import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Logger } from 'pino';
import type { UpstreamSpec } from '../config/parse.js';
import { bodySize, openBody } from '../message/body-source.js';
import { LogEvent } from '../observability/events.js';
import {
  closeSession,
  DEFAULT_POOL_LIMITS,
  isUsable,
  type SmtpPoolLimits,
  type SmtpSession,
  SmtpSessionPool,
} from './smtp-pool.js';
import {
  classifyError,
  isRefusal,
  resultsFromTransaction,
  type SmtpFailure,
} from './smtp-replies.js';
import {
  asFailure,
  type EnvelopeState,
  goneBeforeAnyReply,
  type SendFailure,
  step,
} from './smtp-step.js';
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
  /** Reuse of logged-in sessions; `maxIdle` is the worker concurrency in production. */
  pool?: Partial<SmtpPoolLimits> | undefined;
}

interface SmtpContext {
  spec: SmtpSpec;
  connectionOptions: SMTPConnection.Options;
  pool: SmtpSessionPool;
  logger: Logger | undefined;
}

/** A reused session turned out to be gone before any recipient was answered. */
const STALE = Symbol('stale session');

/**
 * An SMTP provider on nodemailer's SMTP client, with logged-in sessions reused between
 * deliveries (smtp-pool.ts). We drive SMTPConnection ourselves rather than the Mail
 * transport because only here do we know the phase of a failure: a failure while
 * connecting (refused, timeout, TLS, no STARTTLS) has answered no recipient, so the
 * failover chain may try the next upstream; and after DATA we still have the RCPT
 * replies, so an end-of-DATA error applies only to the recipients accepted at RCPT. Raw
 * bytes go out unchanged: there is no message composition at all, so nothing can read a
 * file or a URL.
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
  const context: SmtpContext = {
    spec,
    connectionOptions,
    pool: new SmtpSessionPool({ ...DEFAULT_POOL_LIMITS, ...options.pool }),
    logger: options.logger,
  };
  return {
    label: spec.label,
    send: (message) => sendPooled(context, message),
    close: () => context.pool.close(),
  };
}

/**
 * On an idle session if there is one; if it turns out gone before any recipient was
 * answered (the server dropped it while idle), once more on a fresh session — nothing
 * past the envelope was sent, so this can neither duplicate nor count as an attempt.
 */
async function sendPooled(
  context: SmtpContext,
  message: OutgoingMessage,
): Promise<RecipientResult[]> {
  const idle = context.pool.take();
  if (idle) {
    const results = await transact(context, idle, message, true);
    if (results !== STALE) return results;
  }
  const fresh = await openSession(context, message);
  if (Array.isArray(fresh)) return fresh;
  const results = await transact(context, fresh, message, false);
  // transact() answers STALE only for a reused session; this keeps the types honest.
  return results === STALE
    ? resultsForAll(message.envelope.to, 'deferred', 'upstream session lost')
    : results;
}

/** Connect (and log in): a session, or the results when the login failed. */
async function openSession(
  context: SmtpContext,
  message: OutgoingMessage,
): Promise<SmtpSession | RecipientResult[]> {
  const { spec, logger } = context;
  const connection = new SMTPConnection(context.connectionOptions);
  try {
    await step<void>(connection, (done) => connection.connect((err) => done(err ?? null)));
  } catch (error) {
    closeSession(connection);
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
      closeSession(connection);
      return failAll(spec, message, asFailure(error), logger);
    }
  }
  return { connection, messages: 0 };
}

/**
 * One mail transaction on `session`, which is then given back to the pool (after RSET when
 * the server refused the envelope or the message but kept the session) or ended.
 */
async function transact(
  context: SmtpContext,
  session: SmtpSession,
  message: OutgoingMessage,
  reused: boolean,
): Promise<RecipientResult[] | typeof STALE> {
  const { connection } = session;
  const to = message.envelope.to;
  const envelope: SMTPConnection.Envelope & EnvelopeState = {
    // The null sender (bounces) is MAIL FROM:<>.
    from: message.envelope.from === '' ? false : message.envelope.from,
    to: [...to],
    size: bodySize(message.raw),
  };
  session.messages += 1;
  let info: SMTPConnection.SentMessageInfo;
  // Streamed into DATA (a queued body is read from Redis range by range); a fresh stream
  // per transaction, so a retry on a new session starts from the first byte again.
  const body = openBody(message.raw);
  try {
    info = await step<SMTPConnection.SentMessageInfo>(connection, (done) =>
      connection.send(envelope, body, done),
    );
  } catch (error) {
    body.destroy();
    const failure = asFailure(error);
    if (reused && goneBeforeAnyReply(failure, envelope)) {
      closeSession(connection);
      context.logger?.debug(
        {
          event: LogEvent.deliveryAttempt,
          upstream: context.spec.label,
          messageId: message.id,
          detail: classifyError(failure).detail,
        },
        'idle upstream session was gone; sending on a fresh one',
      );
      return STALE;
    }
    const results = resultsAfterSendError(context.spec, envelope, message, failure, context.logger);
    await releaseAfterRefusal(context.pool, session, failure);
    return results;
  }
  // The end of DATA clears the server's transaction state (RFC 5321 §4.1.1.4): no RSET.
  context.pool.put(session);
  return resultsFromTransaction(to, {
    accepted: info.accepted,
    rejectedErrors: (info.rejectedErrors ?? []).map(asFailure),
    final: { ok: true, response: info.response },
  });
}

/**
 * A refusal (of the envelope or of the message) leaves the session usable unless it was a
 * 421: RSET and keep it, as nodemailer's own pool does. Anything else ends the session — a
 * failure after the final dot (disconnect, timeout) never leaves a session to reuse.
 */
async function releaseAfterRefusal(
  pool: SmtpSessionPool,
  session: SmtpSession,
  failure: SmtpFailure,
): Promise<void> {
  const { connection } = session;
  if (!isRefusal(failure) || failure.responseCode === 421 || !isUsable(connection)) {
    closeSession(connection);
    return;
  }
  try {
    await step<boolean>(connection, (done) => connection.reset(done));
    pool.put(session);
  } catch {
    closeSession(connection);
  }
}

function resultsAfterSendError(
  spec: SmtpSpec,
  state: EnvelopeState,
  message: OutgoingMessage,
  failure: SendFailure,
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
  if (failure.command !== 'MAIL FROM' && Array.isArray(state.accepted)) {
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
