import { hasControlBreaks, type Mailbox, parseSingleMailbox } from '../../message/addresses.js';
import { isBase64 } from '../../message/base64.js';
import { type Denial, deny } from '../../security/verdict.js';
import type { AddressInput, MessageRequest } from './schemas.js';

/** A request that passed every check: addresses parsed, attachments decoded. */
export interface CheckedMessage {
  from: Mailbox;
  /** `from` as the client wrote it (shown by GET /v1/messages/:id). */
  fromText: string;
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo: Mailbox[];
  subject: string;
  text: string | undefined;
  html: string | undefined;
  headers: Record<string, string>;
  attachments: Array<{ filename: string; contentType: string | undefined; content: Buffer }>;
}

/** RFC 5322 §3.6.8 field name: printable US-ASCII except the colon. */
const FIELD_NAME_RE = /^[\x21-\x39\x3b-\x7e]{1,76}$/;

/**
 * Header fields a client may not set through `headers`: the structural ones we compose
 * from the JSON fields, the ones that carry trust (signatures, trace, authentication
 * results) and our own control header.
 */
const RESERVED_FIELDS = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'message-id',
  'date',
  'mime-version',
  'return-path',
  'received',
  'received-spf',
  'dkim-signature',
  'domainkey-signature',
  'authentication-results',
  'delivered-to',
  'x-original-to',
  'idempotency-key',
]);
const RESERVED_PREFIXES = ['content-', 'resent-', 'arc-'];

const MIME_TYPE_RE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
/** Idempotency-Key: 1–200 printable ASCII characters. */
const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

class Refusal extends Error {}

function refuse(message: string): never {
  throw new Refusal(message);
}

function toList(input: AddressInput | undefined): string[] {
  if (input === undefined) return [];
  return typeof input === 'string' ? [input] : input;
}

/** One mailbox per string: a list or group smuggled into one string is refused. */
function mailboxes(field: string, input: AddressInput | undefined): Mailbox[] {
  return toList(input).map((text) => {
    if (hasControlBreaks(text)) refuse(`${field} contains CR, LF or NUL`);
    return parseSingleMailbox(text) ?? refuse(`${field}: "${text}" is not one valid address`);
  });
}

function checkHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!FIELD_NAME_RE.test(name)) refuse(`header name "${name}" is not a valid field name`);
    const lower = name.toLowerCase();
    if (RESERVED_FIELDS.has(lower) || RESERVED_PREFIXES.some((p) => lower.startsWith(p))) {
      refuse(`header ${name} cannot be set through headers`);
    }
    if (hasControlBreaks(value)) refuse(`header ${name} contains CR, LF or NUL`);
  }
  return { ...headers };
}

function decodeBase64(filename: string, content: string): Buffer {
  const compact = content.replace(/[ \t\r\n]/g, '');
  if (!isBase64(compact)) refuse(`attachment ${filename}: content is not valid base64`);
  return Buffer.from(compact, 'base64');
}

function checkAttachments(body: MessageRequest): CheckedMessage['attachments'] {
  return (body.attachments ?? []).map(({ filename, contentType, content }) => {
    if (hasControlBreaks(filename)) refuse('attachment filename contains CR, LF or NUL');
    if (contentType !== undefined && !MIME_TYPE_RE.test(contentType)) {
      refuse(`attachment ${filename}: contentType must be type/subtype`);
    }
    return { filename, contentType, content: decodeBase64(filename, content) };
  });
}

function checkBodyText(field: string, value: string | undefined): string | undefined {
  // NUL is never text; SMTP intake refuses it too. Line breaks become CRLF so no bare
  // CR or LF reaches the queued message (CONTRACT §SMTP: no smuggling).
  if (value?.includes('\0')) refuse(`${field} contains NUL`);
  return value?.replace(/\r\n|\r|\n/g, '\r\n');
}

function checkAll(body: MessageRequest): CheckedMessage {
  if (hasControlBreaks(body.subject)) refuse('subject contains CR, LF or NUL');
  const [from] = mailboxes('from', body.from);
  const checked: CheckedMessage = {
    from: from ?? refuse('from is required'),
    fromText: body.from.trim(),
    to: mailboxes('to', body.to),
    cc: mailboxes('cc', body.cc),
    bcc: mailboxes('bcc', body.bcc),
    replyTo: mailboxes('replyTo', body.replyTo),
    subject: body.subject,
    text: checkBodyText('text', body.text),
    html: checkBodyText('html', body.html),
    headers: checkHeaders(body.headers),
    attachments: checkAttachments(body),
  };
  if (checked.to.length + checked.cc.length + checked.bcc.length === 0) {
    refuse('at least one recipient (to, cc or bcc) is required');
  }
  return checked;
}

/**
 * What the schema cannot say (CONTRACT §HTTP API, 400 invalid_request): no CR/LF/NUL in
 * anything that becomes a header, one valid address per string, no reserved or malformed
 * custom header names, valid base64 attachments, at least one recipient.
 */
export function checkMessageRequest(body: MessageRequest): CheckedMessage | Denial {
  try {
    return checkAll(body);
  } catch (error) {
    if (error instanceof Refusal) return deny('invalid_request', error.message);
    throw error;
  }
}

/** The Idempotency-Key request header: absent, or 1–200 printable ASCII characters. */
export function checkIdempotencyKey(
  header: string | string[] | undefined,
): { key: string | undefined } | Denial {
  if (header === undefined) return { key: undefined };
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY_RE.test(header)) {
    return deny('invalid_request', 'Idempotency-Key must be 1-200 printable ASCII characters');
  }
  return { key: header };
}
