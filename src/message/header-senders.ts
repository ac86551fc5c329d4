import { parseSingleMailbox } from './addresses.js';
import { headerValues, type ParsedHeaders } from './headers.js';

export type HeaderSenders =
  | { ok: true; senders: string[]; fromValue: string; fromAddress: string }
  | { ok: false; reason: 'no_from_header' }
  | { ok: false; reason: 'bad_header_sender'; detail: string };

/** The header fields that name a sender, each held to the credential's grant. */
const SENDER_FIELDS = [
  ['from', 'From:'],
  ['sender', 'Sender:'],
  ['resent-from', 'Resent-From:'],
  ['resent-sender', 'Resent-Sender:'],
] as const;
/** At most one of each (RFC 5322 §3.6); Resent-* come once per resent block. */
const ONCE = new Set(['from', 'sender']);

/**
 * The header senders of a raw message, read strictly (CONTRACT §SMTP submission): exactly
 * one `From:` header; each `From:`, `Sender:`, `Resent-From:` and `Resent-Sender:` holds
 * exactly one mailbox (parseSingleMailbox). Anything else is refused like an ungranted
 * sender: a repaired or second reading of a header is how a granted address is shown
 * next to a forged one.
 */
export function readHeaderSenders(parsed: ParsedHeaders): HeaderSenders {
  const from = headerValues(parsed, 'from');
  if (from.length === 0 || from.every((value) => value.trim() === '')) {
    return { ok: false, reason: 'no_from_header' };
  }
  const senders: string[] = [];
  for (const [field, label] of SENDER_FIELDS) {
    const values = headerValues(parsed, field);
    if (ONCE.has(field) && values.length > 1) return refused(`more than one ${label} header`);
    for (const value of values) {
      const mailbox = parseSingleMailbox(value);
      if (!mailbox) return refused(`${label} must hold exactly one well-formed mailbox`);
      senders.push(mailbox.address);
    }
  }
  return { ok: true, senders, fromValue: from[0] as string, fromAddress: senders[0] as string };
}

function refused(detail: string): HeaderSenders {
  return { ok: false, reason: 'bad_header_sender', detail };
}
