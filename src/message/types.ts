export type Protocol = 'http' | 'smtp';

/** Where a message goes and who it claims to be from, as the SMTP envelope says. */
export interface Envelope {
  /** MAIL FROM; empty string for the null sender. */
  from: string;
  /** RCPT TO, bare addresses, no duplicates. */
  to: string[];
}

/**
 * A message ready for the one door (intake/accept): the raw RFC 5322 bytes as they will
 * be delivered (Bcc, Resent-Bcc and Idempotency-Key removed; Message-ID and Date present)
 * plus what the record and the policy checks need.
 */
export interface Submission {
  protocol: Protocol;
  envelope: Envelope;
  raw: Buffer;
  /**
   * A large SMTP message written to Redis while it arrived (queue/body-spool.ts): the
   * whole message, edits made, is under `key` and `raw` is empty. messageSize() reads either.
   */
  spooled?: { key: string; length: number } | undefined;
  /**
   * The `From:`, `Sender:`, `Resent-From:` and `Resent-Sender:` mailboxes, bare addresses,
   * each read strictly (message/header-senders.ts), for the grant check.
   */
  headerSenders: string[];
  /** The `From:` header value as written, for the record and the API. */
  fromHeader: string;
  subject: string;
  /** The message's own Message-ID header (duplicates at the upstream carry the same one). */
  messageIdHeader: string;
  idempotencyKey?: string | undefined;
}

export type RecipientStatus =
  | 'queued'
  | 'deferred'
  | 'held'
  | 'delivered'
  | 'bounced'
  | 'expired'
  /** Final: the address is on its owner's suppression list (CONTRACT §Suppressions); never sent. */
  | 'suppressed'
  | 'purged';
export type MessageStatus = RecipientStatus | 'partial';

/**
 * What an attempt decides for a recipient: every status but `queued` (metrics, onOutcome).
 * `expired` is decided by the retry lifetime, never by an upstream's reply.
 */
export type RecipientOutcome = Exclude<RecipientStatus, 'queued' | 'held' | 'purged'>;

/**
 * What one send yields per recipient (CONTRACT §Delivery, ARCHITECTURE §4). `suppressed`
 * is decided before any send, by the suppression list.
 */
export type DeliveryOutcome = Exclude<RecipientOutcome, 'expired' | 'suppressed'>;

export type EventType =
  | 'queued'
  | 'deferred'
  | 'held'
  | 'released'
  | 'delivered'
  | 'bounced'
  | 'expired'
  | 'suppressed'
  | 'purged'
  | 'retried';

export interface RecipientState {
  address: string;
  status: RecipientStatus;
  detail: string;
}

export interface MessageEvent {
  type: EventType;
  at: string;
  detail: string;
}

/** What GET /v1/messages/:id, the CLI and the admin page show. */
export interface MessageView {
  id: string;
  status: MessageStatus;
  from: string;
  subject: string;
  createdAt: string;
  attempts: number;
  recipients: RecipientState[];
  events: MessageEvent[];
}
