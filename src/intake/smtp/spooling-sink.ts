import type { BodySpool } from '../../queue/body-spool.js';
import type { MessageSink } from './data-guard.js';
import { type HeldMessage, MessageBuffer } from './message-buffer.js';
import type { RawSubmissionResult } from './raw-submission.js';

/** Messages up to this are held in memory whole (most mail); larger ones are spooled. */
export const SPOOL_FROM_BYTES = 1024 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

export interface SpoolingSinkDeps {
  /** POSTWARDEN_MAX_MESSAGE_BYTES: the in-memory buffer's capacity. */
  maxBytes: number;
  /** A new spool in Redis (Staging.openSpool). */
  openSpool: () => BodySpool;
  /**
   * The header block (through its empty line) → the submission with the header edits
   * made (buildRawSubmission on the head alone: its `raw` is the edited head), or why the
   * message is refused. The edits concern the header block only, so they can be made
   * before the rest of the message has arrived.
   */
  prepareHead: (head: Buffer) => RawSubmissionResult;
}

/**
 * The DATA bytes of one message (DataGuard's sink): held in memory (MessageBuffer) while
 * the message is small; once it passes SPOOL_FROM_BYTES with its header block complete,
 * the head is edited, written to a BodySpool in Redis with what came after it, and every
 * later chunk goes straight there, so a 25 MB message costs the intake a few MiB instead
 * of 25. `room()` lets the reader pause the client while Redis catches up.
 *
 * A header block longer than SPOOL_FROM_BYTES (pathological) stays in memory, within the
 * byte budget like any message.
 */
export class SpoolingSink implements MessageSink {
  readonly #deps: SpoolingSinkDeps;
  readonly #memory: MessageBuffer;
  #spool: BodySpool | undefined;
  #prepared: RawSubmissionResult | undefined;
  #tried = false;

  constructor(deps: SpoolingSinkDeps) {
    this.#deps = deps;
    this.#memory = new MessageBuffer(deps.maxBytes);
  }

  /** Whether the message went to Redis (finish() then gives its submission). */
  get spooling(): boolean {
    return this.#prepared !== undefined;
  }

  append(chunk: Buffer): void {
    if (this.#prepared) {
      this.#spool?.write(chunk);
      return;
    }
    this.#memory.append(chunk);
    if (!this.#tried && this.#memory.length > SPOOL_FROM_BYTES) this.#start();
  }

  clear(): void {
    this.#memory.clear();
    this.discard();
  }

  take(): HeldMessage {
    return this.#memory.take();
  }

  room(): Promise<void> | undefined {
    return this.#spool?.room();
  }

  /**
   * The spooled message as a Submission (its body under `spooled`), or the refusal of its
   * head. Rejects (QueueUnavailableError) when a write to Redis failed.
   */
  async finish(): Promise<RawSubmissionResult> {
    const prepared = this.#prepared;
    if (!prepared) throw new Error('SpoolingSink.finish without a spool');
    if (!prepared.ok || !this.#spool) return prepared;
    const upload = await this.#spool.finish();
    return {
      ok: true,
      submission: { ...prepared.submission, raw: Buffer.alloc(0), spooled: upload },
    };
  }

  /** Delete the spool (refused, abandoned, failed; a no-op once the stage step renamed it). */
  discard(): void {
    this.#spool?.discard();
  }

  #start(): void {
    this.#tried = true;
    const held = this.#memory.take();
    const end = held.raw.indexOf(HEADER_END);
    if (end === -1) {
      this.#memory.append(held.raw); // No header end yet: it stays a message in memory.
      return;
    }
    const headLength = end + HEADER_END.length;
    const prepared = this.#deps.prepareHead(held.raw.subarray(0, headLength));
    this.#prepared = prepared;
    // A refused head: the rest is only counted and drained, the refusal given at the end.
    if (!prepared.ok) return;
    this.#spool = this.#deps.openSpool();
    this.#spool.write(prepared.submission.raw);
    this.#spool.write(held.raw.subarray(headLength));
  }
}
