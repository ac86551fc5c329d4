import type SMTPConnection from 'nodemailer/lib/smtp-connection';

/**
 * Bounds of the idle-connection cache of one SMTP upstream. Opening a session costs a TCP
 * connect, the greeting (smtp-server waits 100 ms before it), EHLO, STARTTLS and AUTH;
 * reusing a logged-in session costs nothing of that — Postfix does the same
 * (`smtp_connection_cache_on_demand`).
 */
export interface SmtpPoolLimits {
  /** Idle sessions kept at most; one per delivery slot (the worker concurrency) is enough. */
  maxIdle: number;
  /**
   * An idle session is ended (QUIT) after this long, as Postfix's
   * `smtp_connection_cache_time_limit` (2 s): providers drop idle clients themselves, and
   * a session that is gone costs a retry on a fresh one.
   */
  idleMs: number;
  /** Messages per session, then QUIT: providers limit messages per connection. */
  maxMessages: number;
}

export const DEFAULT_POOL_LIMITS: SmtpPoolLimits = { maxIdle: 20, idleMs: 2000, maxMessages: 100 };

/** How long close() waits for the QUITs of idle sessions before cutting them off. */
const CLOSE_DEADLINE_MS = 1000;

/** A logged-in session and how many messages it has carried. */
export interface SmtpSession {
  readonly connection: SMTPConnection;
  messages: number;
}

interface Parked {
  session: SmtpSession;
  timer: NodeJS.Timeout;
  onGone: () => void;
}

/**
 * The idle sessions of one upstream. A session is here only while no delivery holds it
 * (take() removes it synchronously), so two deliveries never share one. A session the
 * server ends while idle (a 421, a close, an error) leaves at once.
 */
export class SmtpSessionPool {
  readonly #limits: SmtpPoolLimits;
  /** Most recently parked last: take() uses the warmest, the coldest idle out. */
  readonly #idle: Parked[] = [];
  #closed = false;

  constructor(limits: SmtpPoolLimits) {
    this.#limits = limits;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** An idle session that still looks alive, or undefined. */
  take(): SmtpSession | undefined {
    for (let parked = this.#idle.pop(); parked; parked = this.#idle.pop()) {
      this.#unpark(parked);
      if (isUsable(parked.session.connection)) return parked.session;
      closeSession(parked.session.connection);
    }
    return undefined;
  }

  /** Give a session that ended its transaction cleanly back; it is ended if not wanted. */
  put(session: SmtpSession): void {
    const wanted =
      !this.#closed &&
      isUsable(session.connection) &&
      session.messages < this.#limits.maxMessages &&
      this.#idle.length < this.#limits.maxIdle;
    if (!wanted) {
      closeSession(session.connection);
      return;
    }
    const parked: Parked = {
      session,
      timer: setTimeout(() => this.#evict(parked), this.#limits.idleMs),
      onGone: () => this.#evict(parked),
    };
    // Idle-timer expiry must not keep a process alive that has nothing else to do.
    parked.timer.unref();
    session.connection.on('error', parked.onGone);
    session.connection.once('end', parked.onGone);
    this.#idle.push(parked);
  }

  /**
   * End every idle session (QUIT) and keep none from now on: sessions still in use are
   * ended when they come back. Resolves when the idle ones are gone (bounded wait).
   */
  async close(): Promise<void> {
    this.#closed = true;
    const idle = this.#idle.splice(0);
    await Promise.all(
      idle.map((parked) => {
        this.#unpark(parked);
        return endAndWait(parked.session.connection);
      }),
    );
  }

  /** Idle too long (QUIT), or ended by the server while idle (already closing). */
  #evict(parked: Parked): void {
    const index = this.#idle.indexOf(parked);
    if (index === -1) return;
    this.#idle.splice(index, 1);
    this.#unpark(parked);
    closeSession(parked.session.connection);
  }

  #unpark(parked: Parked): void {
    clearTimeout(parked.timer);
    parked.session.connection.off('error', parked.onGone);
    parked.session.connection.off('end', parked.onGone);
  }
}

export function isUsable(connection: SMTPConnection): boolean {
  return connection.stage === 'connected' && !connection.destroyed;
}

/**
 * QUIT when the session can still say it, else drop it. Late socket errors of a session we
 * are done with must not become unhandled 'error' events.
 */
export function closeSession(connection: SMTPConnection): void {
  connection.on('error', () => {});
  try {
    if (isUsable(connection)) connection.quit();
    else connection.close();
  } catch {
    connection.close();
  }
}

function endAndWait(connection: SMTPConnection): Promise<void> {
  if (connection.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const deadline = setTimeout(() => connection.close(), CLOSE_DEADLINE_MS);
    deadline.unref();
    connection.once('end', () => {
      clearTimeout(deadline);
      resolve();
    });
    closeSession(connection);
  });
}
