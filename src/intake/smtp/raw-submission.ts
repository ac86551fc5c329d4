import { randomBytes } from 'node:crypto';
import { parseMailboxList } from '../../message/addresses.js';
import {
  decodeEncodedWords,
  editHeaders,
  formatRfc5322Date,
  headerValues,
  parseHeaders,
} from '../../message/headers.js';
import type { Envelope, Submission } from '../../message/types.js';

/** Header fields that never leave the relay (CONTRACT §SMTP submission, §Delivery). */
const REMOVED_FIELDS = ['bcc', 'resent-bcc', 'idempotency-key'];

export type RawSubmissionResult =
  | { ok: true; submission: Submission }
  | { ok: false; reason: 'no_from_header' };

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
 * contract names: `Bcc:`, `Resent-Bcc:` and `Idempotency-Key:` removed (the key's value is
 * kept for intake/accept), `Message-ID:` and `Date:` prepended when missing.
 * A message without `From:` is refused: there is no header sender to hold to the grant.
 */
export function buildRawSubmission(
  data: Buffer,
  envelope: Envelope,
  options: RawSubmissionOptions = {},
): RawSubmissionResult {
  const parsed = parseHeaders(data);
  const fromValues = headerValues(parsed, 'from');
  if (fromValues.length === 0) return { ok: false, reason: 'no_from_header' };
  const fromMailboxes = fromValues.flatMap((value) => parseMailboxList(value));
  // `From:` with no mailbox at all is no author either (a bare Sender: must not stand in).
  if (fromMailboxes.length === 0) return { ok: false, reason: 'no_from_header' };
  const senderMailboxes = headerValues(parsed, 'sender').flatMap((value) =>
    parseMailboxList(value),
  );
  const idempotencyKey = headerValues(parsed, 'idempotency-key')[0]?.trim() || undefined;

  const added: string[] = [];
  let messageIdHeader = headerValues(parsed, 'message-id')[0]?.trim() ?? '';
  if (!messageIdHeader) {
    const domain =
      domainOf(envelope.from) ??
      domainOf(fromMailboxes[0] ?? '') ??
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
      // Every From: mailbox and the Sender: mailbox; an unparseable entry stays as '' and
      // is refused by the grant check (fail closed).
      headerSenders: [...fromMailboxes, ...senderMailboxes],
      fromHeader: decodeEncodedWords(fromValues.join(', ')),
      subject: decodeEncodedWords(headerValues(parsed, 'subject')[0] ?? ''),
      messageIdHeader,
      idempotencyKey,
    },
  };
}
