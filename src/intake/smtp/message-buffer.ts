/** Up to this many bytes a message is kept as the stream's chunks (most mail is small). */
const SMALL_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Spare bytes before a large message, for the header lines the intake adds (Message-ID, Date). */
const HEADROOM_BYTES = 1024;

/** The whole message, and how many spare bytes before it in its memory are ours too. */
export interface HeldMessage {
  raw: Buffer;
  headroom: number;
}

/**
 * The DATA bytes of one message, held in memory once.
 *
 * Small messages keep the stream's chunks and are joined once at the end. A large one
 * would otherwise be in memory twice at the end of DATA (every chunk plus the joined
 * copy, and the chunks are rarely collected before the store makes its own copy for
 * Redis): past SMALL_MESSAGE_BYTES its bytes move into one block sized for the largest
 * allowed message, each later chunk is copied there as it arrives (so chunks die young),
 * and the message ends as a view of that block, without a join. The block is allocated
 * uninitialised: the OS commits its pages only as they are written, so a 5 MB message
 * does not take 25 MB of RAM, and only written bytes are ever exposed. It starts with
 * HEADROOM_BYTES to spare, so adding header lines does not copy the message either
 * (editHeaders in message/headers.ts).
 */
export class MessageBuffer {
  readonly #capacity: number;
  #chunks: Buffer[] = [];
  #block: Buffer | undefined;
  #length = 0;

  /** `capacity`: the most bytes that will be appended (the caller enforces it). */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get length(): number {
    return this.#length;
  }

  append(chunk: Buffer): void {
    const length = this.#length + chunk.length;
    if (length > this.#capacity) throw new RangeError('message buffer capacity exceeded');
    if (!this.#block && length > SMALL_MESSAGE_BYTES) this.#moveToBlock();
    if (this.#block) chunk.copy(this.#block, HEADROOM_BYTES + this.#length);
    else this.#chunks.push(chunk);
    this.#length = length;
  }

  /** Drop everything (a refused message is only drained from here on). */
  clear(): void {
    this.#chunks = [];
    this.#block = undefined;
    this.#length = 0;
  }

  /**
   * The whole message, for the caller to own (it may edit it in place, headroom
   * included); this buffer is empty afterwards and keeps no reference to it.
   */
  take(): HeldMessage {
    const held: HeldMessage = this.#block
      ? {
          raw: this.#block.subarray(HEADROOM_BYTES, HEADROOM_BYTES + this.#length),
          headroom: HEADROOM_BYTES,
        }
      : { raw: Buffer.concat(this.#chunks, this.#length), headroom: 0 };
    this.clear();
    return held;
  }

  #moveToBlock(): void {
    let block: Buffer;
    try {
      block = Buffer.allocUnsafe(HEADROOM_BYTES + this.#capacity);
    } catch {
      return; // No address space for the block (strict overcommit): keep collecting chunks.
    }
    let offset = HEADROOM_BYTES;
    for (const held of this.#chunks) offset += held.copy(block, offset);
    this.#chunks = [];
    this.#block = block;
  }
}
