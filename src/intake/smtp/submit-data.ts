import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Envelope } from '../../message/types.js';
import { LogEvent } from '../../observability/events.js';
import { type AcceptDeps, acceptSubmission } from '../accept.js';
import type { InflightBudget, Reservation } from '../inflight-budget.js';
import { DataGuard } from './data-guard.js';
import { buildRawSubmission } from './raw-submission.js';
import {
  Replies,
  replyError,
  replyForDenial,
  replyQueued,
  replyText,
  replyTooLarge,
  type SmtpReply,
} from './replies.js';
import { type ConnectionState, credentialOf } from './session.js';
import { SpoolingSink } from './spooling-sink.js';

export interface SubmitDataDeps {
  accept: AcceptDeps;
  /** Domain for generated Message-IDs when the sender's domain is unknown. */
  hostname?: string | undefined;
  stateOf(session: SMTPServerSession): ConnectionState;
  /** POSTWARDEN_MAX_INFLIGHT_BYTES, shared with every other client of the process. */
  budget?: InflightBudget | undefined;
}

type DataDone = (err?: Error | null, message?: string) => void;

/**
 * Read the DATA stream through the guard; rejects if the client went away mid-message.
 * While the spool's writes to Redis lag behind, the client is paused (TCP backpressure),
 * so a fast client cannot pile its message up in memory.
 */
function readData(
  stream: SMTPServerDataStream,
  guard: DataGuard,
  sink: SpoolingSink,
): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      guard.push(chunk);
      const room = sink.room();
      if (room) {
        stream.pause();
        room.then(() => stream.resume());
      }
    });
    stream.once('end', () => resolve());
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('connection closed during DATA')));
  });
}

/**
 * The end of DATA: guard verdict (size, smuggling) → Submission → the one door. The
 * client hears `250 2.0.0 Ok: queued as ID` only after acceptSubmission resolved, i.e.
 * after the durable enqueue (CONTRACT: nothing is dropped); any failure is a 4xx/5xx
 * and nothing is queued.
 */
export function createDataHandler(deps: SubmitDataDeps) {
  async function decide(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
  ): Promise<SmtpReply> {
    const maxBytes = deps.accept.limits.maxMessageBytes;
    const mailFrom = session.envelope.mailFrom;
    const envelope = {
      from: mailFrom ? mailFrom.address : '',
      to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
    };
    const sink = new SpoolingSink({
      maxBytes,
      openSpool: () => deps.accept.staging.openSpool(),
      prepareHead: (head) => buildRawSubmission(head, envelope, { hostname: deps.hostname }),
    });
    try {
      return await decideWith(stream, session, sink, envelope);
    } finally {
      // Not staged (refused, failed, abandoned): its spool goes. After the stage step
      // renamed it this deletes nothing.
      sink.discard();
    }
  }

  async function decideWith(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    sink: SpoolingSink,
    envelope: Envelope,
  ): Promise<SmtpReply> {
    const state = deps.stateOf(session);
    const maxBytes = deps.accept.limits.maxMessageBytes;
    const guard = new DataGuard(maxBytes, state.reservation, sink);
    await readData(stream, guard, sink);
    const verdict = guard.finish();
    if (!verdict.ok) {
      state.logger.info(
        { event: LogEvent.messageRejected, reason: verdict.reason, bytes: guard.bytes },
        'message refused at end of DATA',
      );
      if (verdict.reason === 'busy') return Replies.serverBusy;
      return verdict.reason === 'too_large' ? replyTooLarge(maxBytes) : Replies.smuggling;
    }
    // The door re-checks that this session's credential and secret are still current
    // (a rotate or revoke since AUTH: 530 5.7.0, CONTRACT §CLI).
    const credential = credentialOf(session);
    if (!credential || !session.envelope.mailFrom) return Replies.authRequired;
    // A spooled message had its head edited as it arrived; otherwise the guard handed the
    // bytes over and header edits may be made in place.
    const built = sink.spooling
      ? await sink.finish()
      : buildRawSubmission(verdict.raw, envelope, {
          hostname: deps.hostname,
          headroom: verdict.headroom,
        });
    if (!built.ok) {
      if (built.reason === 'no_from_header') return Replies.noFromHeader;
      // CONTRACT: a malformed header sender is refused like an ungranted one (550 5.7.1).
      return replyForDenial({ code: 'header_sender_not_allowed', message: built.detail });
    }
    const result = await acceptSubmission(
      deps.accept,
      { credential, ip: state.ip },
      built.submission,
    );
    if (result.accepted) return replyQueued(result.id);
    state.logger.info(
      { event: LogEvent.messageRejected, code: result.denial.code, credential: credential.name },
      'message refused',
    );
    return replyForDenial(result.denial);
  }

  return (stream: SMTPServerDataStream, session: SMTPServerSession, done: DataDone): void => {
    const state = deps.stateOf(session);
    // The transaction's reservation (opened at MAIL FROM with a declared SIZE, or now) is
    // given back on every way out of DATA: replied, refused, failed or disconnected.
    const reservation = openReservation(deps, state);
    decide(stream, session)
      .finally(() => {
        reservation?.release();
        if (state.reservation === reservation) state.reservation = undefined;
      })
      .then(
        (reply) => (reply.code < 300 ? done(null, replyText(reply)) : done(replyError(reply))),
        (error: Error) => {
          state.logger.warn({ err: { message: error.message } }, 'DATA not completed');
          stream.resume(); // drain whatever is left so smtp-server can answer
          done(replyError(Replies.internalError));
        },
      );
  };
}

function openReservation(deps: SubmitDataDeps, state: ConnectionState): Reservation | undefined {
  state.reservation ??= deps.budget?.open('smtp');
  return state.reservation;
}
