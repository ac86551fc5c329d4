import type { Logger } from 'pino';
import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerSession,
} from 'smtp-server';
import { isValidAddress } from '../../message/addresses.js';
import { plainIp } from '../../observability/events.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import { ConnectionLimiter } from '../../security/connection-limits.js';
import type { Credential, CredentialStore } from '../../security/credentials/store.js';
import { type AcceptDeps, checkEnvelopeSender, checkRecipient, recipientLimit } from '../accept.js';
import type { InflightBudget, Reservation } from '../inflight-budget.js';
import { isLoopbackAddress } from './loopback.js';
import {
  Replies,
  replyError,
  replyForDenial,
  replyTooLarge,
  replyTooManyRecipients,
  type SmtpReply,
} from './replies.js';

/** Failed AUTHs one connection may make; the last one is answered 421 and closes it. */
export const MAX_AUTH_FAILURES_PER_CONNECTION = 3;

/**
 * Bytes an undeclared message reserves at DATA: room for its first chunks. Small, so a
 * small message still fits beside large ones; with not even this left it hears 452 4.3.1
 * at once instead of being sent and drained.
 */
const DATA_START_BYTES = 64 * 1024;

export interface SessionDeps {
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  accept: AcceptDeps;
  logger: Logger;
  /** Concurrent connections one client IP may hold (slowloris); default 50. */
  maxConnectionsPerIp?: number | undefined;
  /** POSTWARDEN_MAX_INFLIGHT_BYTES: a declared SIZE is reserved at MAIL FROM. */
  budget?: InflightBudget | undefined;
}

/** What we keep per connection (smtp-server reuses one session object per connection). */
export interface ConnectionState {
  logger: Logger;
  ip: string;
  authFailures: number;
  /** Whether this connection holds a slot in the per-IP limiter. */
  counted?: boolean;
  /** The current transaction's share of the byte budget (MAIL FROM SIZE=, then DATA). */
  reservation?: Reservation | undefined;
}

type Done = (err?: Error | null) => void;
type AuthDone = (
  err: Error | null | undefined,
  response?: SMTPServerAuthenticationResponse,
) => void;

/** The authenticated credential of a session, or undefined. */
export function credentialOf(session: SMTPServerSession): Credential | undefined {
  const user: unknown = session.user;
  return typeof user === 'object' && user !== null && 'allowFrom' in user
    ? (user as Credential)
    : undefined;
}

/**
 * The connection, AUTH and envelope handlers of the SMTP intake (onData is in
 * submit-data.ts). smtp-server's defaults accept everything (GOTCHAS), so every handler
 * checks the session itself. Each refusal comes from the replies table.
 */
export function createSessionHandlers(deps: SessionDeps) {
  const states = new WeakMap<SMTPServerSession, ConnectionState>();

  function stateOf(session: SMTPServerSession): ConnectionState {
    let state = states.get(session);
    if (!state) {
      const ip = plainIp(session.remoteAddress);
      state = { ip, authFailures: 0, logger: deps.logger.child({ cid: session.id, ip }) };
      states.set(session, state);
    }
    return state;
  }

  const limiter = new ConnectionLimiter(deps.maxConnectionsPerIp ?? 50);

  async function onConnect(session: SMTPServerSession): Promise<void> {
    const state = stateOf(session);
    if (!limiter.tryOpen(state.ip)) {
      state.logger.warn(
        { protocol: 'smtp', open: limiter.openFrom(state.ip) },
        'too many connections from one address',
      );
      throw replyError(Replies.tooManyConnections);
    }
    state.counted = true;
    let banned: boolean;
    try {
      banned = await deps.abuseGuard.isBanned(state.ip);
    } catch (error) {
      state.logger.warn({ err: { message: (error as Error).message } }, 'ban check failed');
      throw replyError(Replies.serviceUnavailable);
    }
    if (banned) {
      state.logger.info({ protocol: 'smtp' }, 'banned client refused at connect');
      throw replyError(Replies.banned);
    }
  }

  async function onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
  ): Promise<SMTPServerAuthenticationResponse> {
    const state = stateOf(session);
    // Also refused before the SASL exchange (smtp-server-patches.ts); this is the policy itself.
    if (!session.secure && !isLoopbackSession(session))
      throw replyError(Replies.encryptionRequired);
    const user = auth.username ?? '';
    const password = auth.password ?? '';
    let credential: Credential | undefined;
    let banned = false;
    try {
      ({ credential, banned } = await checkSecret(state, user, password));
    } catch (error) {
      state.logger.warn({ err: { message: (error as Error).message } }, 'auth lookup failed');
      throw replyError(Replies.authUnavailable);
    }
    if (credential) {
      state.logger.info({ credential: credential.name }, 'smtp client authenticated');
      return { user: credential };
    }
    state.authFailures += 1;
    if (banned || state.authFailures >= MAX_AUTH_FAILURES_PER_CONNECTION) {
      throw replyError(Replies.tooManyAuthFailures);
    }
    throw replyError(Replies.authFailed);
  }

  /**
   * The secret checked in an abuse-guard slot (unless it authenticated here before), so
   * parallel guesses from many connections cannot outrun the ban (CONTRACT §Abuse guard).
   * No slot: `busy` → 454, banned → counted as a failure that closes the connection.
   */
  async function checkSecret(
    state: ConnectionState,
    user: string,
    password: string,
  ): Promise<{ credential: Credential | undefined; banned: boolean }> {
    const failure = { ip: state.ip, protocol: 'smtp' as const, user };
    if (deps.credentials.isProvenSecret(password, user)) {
      const credential = await deps.credentials.authenticate(user, password);
      if (credential) return { credential, banned: false };
      const { banned } = await deps.abuseGuard.recordFailure(failure);
      return { credential: undefined, banned };
    }
    const slot = await deps.abuseGuard.reserve(state.ip);
    if (!slot.ok) {
      if (slot.reason === 'busy') throw replyError(Replies.authUnavailable);
      return { credential: undefined, banned: true };
    }
    const credential = await deps.credentials.authenticate(user, password);
    const settled = await deps.abuseGuard.settle(
      slot.reservation,
      credential ? { ok: true } : { ok: false, failure },
    );
    return settled.allowed
      ? { credential, banned: false }
      : { credential: undefined, banned: settled.banned };
  }

  /**
   * A malformed AUTH exchange (smtp-server answered it 501 itself: a PLAIN token without
   * its NULs, an empty LOGIN user name) is a failure like a wrong secret (CONTRACT §Abuse
   * guard): counted for the address, and the third on a connection closes it. Returns
   * whether to close; the count for the address is written in the background.
   */
  function onMalformedAuth(session: SMTPServerSession): boolean {
    const state = stateOf(session);
    state.authFailures += 1;
    deps.abuseGuard
      .recordFailure({ ip: state.ip, protocol: 'smtp', user: null })
      .catch((error: Error) =>
        state.logger.warn({ err: { message: error.message } }, 'auth failure not counted'),
      );
    return state.authFailures >= MAX_AUTH_FAILURES_PER_CONNECTION;
  }

  async function onMailFrom(address: SMTPServerAddress, session: SMTPServerSession) {
    const held = credentialOf(session);
    if (!held) throw replyError(Replies.authRequired);
    // The session keeps the credential it authenticated as: after a rotate, a revoke or a
    // re-create of the name it may start no new transaction (CONTRACT §CLI: 530 5.7.0).
    const credential = await currentOrRefuse(held, stateOf(session));
    const from = address.address;
    if (from !== '' && !isValidAddress(from)) throw replyError(Replies.badSenderSyntax);
    const declared = Number(address.args && (address.args as Record<string, unknown>).SIZE);
    if (declared > deps.accept.limits.maxMessageBytes) {
      throw replyError(replyTooLarge(deps.accept.limits.maxMessageBytes));
    }
    const denial = checkEnvelopeSender(credential, from);
    if (denial) {
      stateOf(session).logger.info({ code: denial.code }, 'envelope sender refused');
      throw replyError(replyForDenial(denial));
    }
    reserveDeclaredSize(stateOf(session), declared);
  }

  /**
   * A declared SIZE= is reserved now, for the whole transaction, so a client told to go
   * on finds the room at DATA; one that cannot fit hears `452 4.3.1` before sending a
   * byte (CONTRACT §SMTP). A new MAIL FROM (after RSET) gives the last one back first.
   */
  function reserveDeclaredSize(state: ConnectionState, declared: number): void {
    state.reservation?.release();
    state.reservation = undefined;
    if (!deps.budget || !(declared > 0)) return;
    const reservation = deps.budget.open('smtp');
    if (!reservation.ensure(declared)) {
      state.logger.info({ declared, inUse: deps.budget.inUse }, 'declared size over the budget');
      throw replyError(Replies.serverBusy);
    }
    state.reservation = reservation;
  }

  async function currentOrRefuse(held: Credential, state: ConnectionState): Promise<Credential> {
    let current: Credential | undefined;
    try {
      current = await deps.credentials.current(held);
    } catch (error) {
      state.logger.warn({ err: { message: (error as Error).message } }, 'credential check failed');
      throw replyError(Replies.authUnavailable);
    }
    if (current) return current;
    state.logger.info({ credential: held.name }, 'session credential rotated or revoked');
    throw replyError(
      replyForDenial({
        code: 'unauthorized',
        message: 'Credential rotated or revoked since AUTH; authenticate again',
      }),
    );
  }

  function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): void {
    const credential = credentialOf(session);
    if (!credential) throw replyError(Replies.authRequired);
    if (!isValidAddress(address.address)) throw replyError(Replies.badRecipientSyntax);
    // CONTRACT: `550 5.7.1` for this recipient only; the others of the transaction stay.
    const refused = checkRecipient(credential, address.address);
    if (refused) {
      stateOf(session).logger.info({ code: refused.code }, 'recipient refused');
      throw replyError(replyForDenial(refused));
    }
    const limit = recipientLimit(deps.accept, credential);
    const key = address.address.toLowerCase();
    const current = session.envelope.rcptTo;
    const repeated = current.some((rcpt) => rcpt.address.toLowerCase() === key);
    // CONTRACT: `452 4.5.3` for each recipient beyond the limit; the others stay accepted.
    if (!repeated && current.length >= limit) throw replyError(replyTooManyRecipients(limit));
  }

  /**
   * Before the 354: an undeclared message reserves its first bytes now, so with the
   * budget full it is refused at DATA (`452 4.3.1`) instead of being sent whole and
   * drained (smtp-server-patches.ts, patch 7). A declared SIZE already holds its room.
   */
  function beforeData(session: SMTPServerSession): SmtpReply | undefined {
    const state = stateOf(session);
    if (!deps.budget || state.reservation) return undefined;
    const reservation = deps.budget.open('smtp');
    if (!reservation.ensure(Math.min(DATA_START_BYTES, deps.accept.limits.maxMessageBytes))) {
      state.logger.info({ inUse: deps.budget.inUse }, 'DATA refused: byte budget full');
      return Replies.serverBusy;
    }
    state.reservation = reservation;
    return undefined;
  }

  function onClose(session: SMTPServerSession): void {
    const state = states.get(session);
    state?.reservation?.release();
    if (state?.counted) {
      state.counted = false;
      limiter.release(state.ip);
    }
  }

  return {
    stateOf,
    onClose,
    beforeData,
    onMalformedAuth,
    onConnect: (session: SMTPServerSession, done: Done) => {
      onConnect(session).then(() => done(), done);
    },
    onAuth: (auth: SMTPServerAuthentication, session: SMTPServerSession, done: AuthDone) => {
      onAuth(auth, session).then((response) => done(null, response), done);
    },
    onMailFrom: (address: SMTPServerAddress, session: SMTPServerSession, done: Done) => {
      onMailFrom(address, session).then(() => done(), done);
    },
    onRcptTo: (address: SMTPServerAddress, session: SMTPServerSession, done: Done) => {
      settle(() => onRcptTo(address, session), done);
    },
  };
}

function isLoopbackSession(session: SMTPServerSession): boolean {
  return isLoopbackAddress(session.remoteAddress);
}

function settle(check: () => void, done: Done): void {
  try {
    check();
  } catch (error) {
    done(error as Error);
    return;
  }
  done();
}
