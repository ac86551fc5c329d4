import type { Reservation } from '../inflight-budget.js';
import { type HeldMessage, MessageBuffer } from './message-buffer.js';

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/** Where the guard keeps the bytes it accepts: MessageBuffer, or one that spools them. */
export interface MessageSink {
  append(chunk: Buffer): void;
  clear(): void;
  take(): HeldMessage;
}

export type DataProblem = 'bare_lf' | 'bare_cr' | 'nul';

export type DataVerdict =
  | ({ ok: true } & HeldMessage)
  | { ok: false; reason: 'too_large'; bytes: number }
  /** The process's byte budget (POSTWARDEN_MAX_INFLIGHT_BYTES) had no room for these bytes. */
  | { ok: false; reason: 'busy'; bytes: number }
  | { ok: false; reason: 'smuggling'; problem: DataProblem; offset: number };

/**
 * Watches the DATA stream chunk by chunk (after smtp-server removed the dot-stuffing).
 *
 * - Lines must end in CRLF: a bare LF, a bare CR or a NUL anywhere refuses the message
 *   (CONTRACT: no SMTP smuggling — `<LF>.<CRLF>` and friends end DATA at some upstreams
 *   but not here, so a second message could ride inside the first). smtp-server passes
 *   them through (GOTCHAS), so every byte is scanned, the last byte carried across chunks.
 * - The size limit holds whether or not SIZE= was declared: bytes are counted and
 *   buffering stops at the limit, the rest is only drained (GOTCHAS: smtp-server does
 *   not cut an undeclared oversized body off).
 * - The accepted bytes are held once (message-buffer.ts); `finish()` hands them over.
 * - Each byte held is reserved first in the process's budget (`reservation`,
 *   inflight-budget.ts). When the budget has no room the message is dropped whole (never
 *   truncated), its reservation given back, and the rest only drained: `busy`.
 */
export class DataGuard {
  readonly #maxBytes: number;
  readonly #message: MessageSink;
  readonly #reservation: Reservation | undefined;
  #bytes = 0;
  #previous = -1;
  #problem: { problem: DataProblem; offset: number } | undefined;

  constructor(maxBytes: number, reservation?: Reservation, sink?: MessageSink) {
    this.#maxBytes = maxBytes;
    this.#reservation = reservation;
    this.#message = sink ?? new MessageBuffer(maxBytes);
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(chunk: Buffer): void {
    // A message already refused for its size or for the budget is only drained: its
    // verdict cannot change, so its bytes are not scanned (a busy relay drains cheaply).
    if (this.#problem === undefined && this.#keeping()) this.#scan(chunk);
    this.#bytes += chunk.length;
    // Keep bytes only while the message can still be accepted, and only with room for them.
    if (this.#keeping() && this.#reservation?.ensure(this.#bytes) !== false) {
      this.#message.append(chunk);
    } else {
      this.#message.clear();
      this.#reservation?.release();
    }
  }

  #keeping(): boolean {
    return (
      this.#problem === undefined &&
      this.#bytes <= this.#maxBytes &&
      this.#reservation?.refused !== true
    );
  }

  /** The verdict once the stream ended at `<CRLF>.<CRLF>`. */
  finish(): DataVerdict {
    if (this.#bytes > this.#maxBytes) return { ok: false, reason: 'too_large', bytes: this.#bytes };
    if (this.#problem) return { ok: false, reason: 'smuggling', ...this.#problem };
    // Busy before the last-byte check: the bytes after the refusal were not scanned.
    if (this.#reservation?.refused) return { ok: false, reason: 'busy', bytes: this.#bytes };
    if (this.#previous === CR) {
      return { ok: false, reason: 'smuggling', problem: 'bare_cr', offset: this.#bytes - 1 };
    }
    return { ok: true, ...this.#message.take() };
  }

  #scan(chunk: Buffer): void {
    let previous = this.#previous;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      const problem = classify(previous, byte);
      if (problem) {
        this.#problem = { problem, offset: this.#bytes + (problem === 'bare_cr' ? i - 1 : i) };
        return;
      }
      previous = byte;
    }
    this.#previous = previous;
  }
}

function classify(previous: number, byte: number): DataProblem | undefined {
  if (byte === NUL) return 'nul';
  if (byte === LF && previous !== CR) return 'bare_lf';
  if (previous === CR && byte !== LF) return 'bare_cr';
  return undefined;
}
