/** Which edge a refusal happened at (the refusals counter's label). */
export type BudgetProtocol = 'smtp' | 'http';

export interface InflightBudgetHooks {
  /** A reservation did not fit (metrics: postwarden_inflight_refusals_total). */
  onRefused?: (protocol: BudgetProtocol) => void;
}

/**
 * POSTWARDEN_MAX_INFLIGHT_BYTES (CONTRACT §Retention and bounded resources): one byte
 * budget for the whole process, shared by every SMTP session and HTTP request. A client
 * reserves message bytes before it holds them; past the budget the reservation is refused
 * and the edge answers "busy, try later" (452 4.3.1 / 503 server_busy), so memory stays
 * bounded whatever the clients do — 60 clients × 24 MB no longer means 1.4 GB.
 *
 * Nothing is ever cut short: a client either gets all the room it asks for or none, and
 * every reservation is given back once its message was staged, refused or abandoned
 * (Reservation.release is idempotent, so every exit path can call it).
 */
export class InflightBudget {
  readonly limit: number;
  readonly #hooks: InflightBudgetHooks;
  #inUse = 0;

  constructor(limit: number, hooks: InflightBudgetHooks = {}) {
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError('budget must be > 0');
    this.limit = limit;
    this.#hooks = hooks;
  }

  /** Bytes reserved now, across all clients (gauge postwarden_inflight_bytes). */
  get inUse(): number {
    return this.#inUse;
  }

  /** A new, empty reservation for one message of one client. */
  open(protocol: BudgetProtocol): Reservation {
    return new Reservation(this, protocol);
  }

  /** @internal Reservation's side: take `bytes` if they fit. */
  take(bytes: number, protocol: BudgetProtocol): boolean {
    if (this.#inUse + bytes > this.limit) {
      this.#hooks.onRefused?.(protocol);
      return false;
    }
    this.#inUse += bytes;
    return true;
  }

  /** @internal Reservation's side: give `bytes` back. */
  give(bytes: number): void {
    this.#inUse = Math.max(0, this.#inUse - bytes);
  }
}

/** The bytes one message holds of the budget; grows as its bytes arrive. */
export class Reservation {
  readonly #budget: InflightBudget;
  readonly #protocol: BudgetProtocol;
  #held = 0;
  #refused = false;

  constructor(budget: InflightBudget, protocol: BudgetProtocol) {
    this.#budget = budget;
    this.#protocol = protocol;
  }

  /** Bytes this reservation holds. */
  get held(): number {
    return this.#held;
  }

  /** Whether a grow did not fit; the message is then refused whole (never truncated). */
  get refused(): boolean {
    return this.#refused;
  }

  /**
   * Make sure `total` bytes are held (declared size, or bytes received so far). False, and
   * nothing more taken, when they do not fit; a refused reservation stays refused.
   */
  ensure(total: number): boolean {
    if (this.#refused) return false;
    if (total <= this.#held) return true;
    if (!this.#budget.take(total - this.#held, this.#protocol)) {
      this.#refused = true;
      return false;
    }
    this.#held = total;
    return true;
  }

  /** Give everything back (success, refusal, disconnect, timeout). Safe to call again. */
  release(): void {
    if (this.#held > 0) this.#budget.give(this.#held);
    this.#held = 0;
  }
}
