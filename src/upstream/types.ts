import { PostwardenError } from '../errors.js';
import type { MessageBytes } from '../message/body-source.js';
import type { DeliveryOutcome } from '../message/types.js';

/** One recipient's result of one send (CONTRACT §Delivery). */
export interface RecipientResult {
  address: string;
  outcome: DeliveryOutcome;
  /** The upstream's reply or the reason, never a secret. */
  detail: string;
}

/**
 * What an upstream sends: the stored bytes, unchanged, with the validated envelope. A
 * queued message's bytes are a BodySource streamed from Redis (bodySize/openBody read
 * either form).
 */
export interface OutgoingMessage {
  id: string;
  envelope: { from: string; to: string[] };
  raw: MessageBytes;
}

/** A place messages go: an SMTP provider, the capture store, or a failover chain of them. */
export interface Upstream {
  /** Printable, without secrets (logs, admin page). */
  readonly label: string;
  /**
   * Send to every recipient of `message.envelope.to`; resolves with one result per
   * recipient. Rejects with UpstreamUnreachableError only when nothing was said to any
   * recipient (so a failover chain may try the next upstream without a duplicate).
   */
  send(message: OutgoingMessage): Promise<RecipientResult[]>;
  close(): Promise<void>;
}

/**
 * The upstream could not be reached at all (refused, timed out before the greeting, TLS
 * failed): no recipient got an answer, so trying the next upstream cannot duplicate.
 */
export class UpstreamUnreachableError extends PostwardenError {
  readonly upstream: string;

  constructor(upstream: string, detail: string, options?: { cause?: unknown }) {
    super('upstream_unreachable', `${upstream}: ${detail}`, options);
    this.name = 'UpstreamUnreachableError';
    this.upstream = upstream;
  }
}

/** Every recipient gets the same outcome (a whole-message answer or a connection failure). */
export function resultsForAll(
  addresses: string[],
  outcome: DeliveryOutcome,
  detail: string,
): RecipientResult[] {
  return addresses.map((address) => ({ address, outcome, detail }));
}
