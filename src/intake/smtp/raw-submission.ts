import { randomBytes } from 'node:crypto';
import { readHeaderSenders } from '../../message/header-senders.js';
import {
  decodeEncodedWords,
  editHeaders,
  formatRfc5322Date,
  headerValues,
  parseHeaders,
} from '../../message/headers.js';
import type { Envelope, Submission } from '../../message/types.js';

/**
 * Header fields that never leave the relay (CONTRACT §SMTP submission, §Delivery).
 * Return-Path is the final receiver's record of the envelope sender; one written by the
 * client would be a second, unchecked sender claim.
 */
const REMOVED_FIELDS = ['bcc', 'resent-bcc', 'idempotency-key', 'return-path'];

export type RawSubmissionResult =
  | { ok: true; submission: Submission }
  | { ok: false; reason: 'no_from_header' }
  | { ok: false; reason: 'bad_header_sender'; detail: string };

export interface RawSubmissionOptions {
  /** Domain for a generated Message-ID when the sender's domain is unknown. */
  hostname?: string | undefined;
  now?: Date;
  /**
   * Set when the caller hands `data` over: it is then edited in place, with this many
   * spare bytes before it (HeldMessage from message-buffer.ts), instead of copied.
   */
  headroom?: number | undefined;
}

function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  const domain = at === -1 ? '' : address.slice(at + 1);
  return /^[A-Za-z0-9.-]+$/.test(domain) ? domain.toLowerCase() : undefined;
}

function generateMessageId(domain: string): string {
  return `<${randomBytes(16).toString('hex')}@${domain}>`;
}

/**
 * The DATA bytes of an SMTP submission → a Submission for the one door. The message is
 * kept byte for byte (ARCHITECTURE: never re-compose it); the only edits are the ones the
 * contract names: `Bcc:`, `Resent-Bcc:`, `Return-Path:` and `Idempotency-Key:` removed (the
 * key's value is kept for intake/accept), `Message-ID:` and `Date:` prepended when missing.
 * A message without `From:`, or whose header senders are not each exactly one
 * well-formed mailbox (readHeaderSenders), is refused before the grant check.
 */
export function buildRawSubmission(
  data: Buffer,
  envelope: Envelope,
  options: RawSubmissionOptions = {},
): RawSubmissionResult {
  const parsed = parseHeaders(data);
  const senders = readHeaderSenders(parsed);
  if (!senders.ok) return senders;
  const idempotencyKey = headerValues(parsed, 'idempotency-key')[0]?.trim() || undefined;

  const added: string[] = [];
  let messageIdHeader = headerValues(parsed, 'message-id')[0]?.trim() ?? '';
  if (!messageIdHeader) {
    const domain =
      domainOf(envelope.from) ??
      domainOf(senders.fromAddress) ??
      options.hostname ??
      'postwarden.invalid';
    messageIdHeader = generateMessageId(domain);
    added.push(`Message-ID: ${messageIdHeader}`);
  }
  if (headerValues(parsed, 'date').length === 0) {
    added.push(`Date: ${formatRfc5322Date(options.now ?? new Date())}`);
  }
  // One edit for both, so the message is copied at most once (in place: not at all).
  const raw = editHeaders(data, parsed, {
    remove: REMOVED_FIELDS,
    prepend: added,
    headroom: options.headroom,
  });

  return {
    ok: true,
    submission: {
      protocol: 'smtp',
      envelope,
      raw,
      headerSenders: senders.senders,
      fromHeader: decodeEncodedWords(senders.fromValue),
      subject: decodeEncodedWords(headerValues(parsed, 'subject')[0] ?? ''),
      messageIdHeader,
      idempotencyKey,
    },
  };
}
