/** CR, LF or NUL anywhere: header injection / smuggling; always refused. */
export function hasControlBreaks(text: string): boolean {
  return /[\r\n\0]/.test(text);
}

// Local part: a dot-atom; domain: a host name with at least one dot (IDN allowed).
// Deliberately stricter than RFC 5322: no quoted local parts, no IP literals, and no `%`
// or `!` (the percent hack and bang paths are routing syntax some upstreams still obey),
// so a relay never passes exotic routing upstream.
const LOCAL_ATOM = "[A-Za-z0-9#$&'*+/=?^_`{|}~\\u0080-\\uFFFF-]+";
const LOCAL = `${LOCAL_ATOM}(?:\\.${LOCAL_ATOM})*`;
const LABEL =
  '[A-Za-z0-9\\u0080-\\uFFFF](?:[A-Za-z0-9\\u0080-\\uFFFF-]{0,61}[A-Za-z0-9\\u0080-\\uFFFF])?';
const DOMAIN = `${LABEL}(?:\\.${LABEL})+`;
const ADDRESS_RE = new RegExp(`^${LOCAL}@${DOMAIN}$`);

/** A bare address we are willing to put in an envelope (no routes, no %, no !, no quotes). */
export function isValidAddress(address: string): boolean {
  return address.length <= 254 && !hasControlBreaks(address) && ADDRESS_RE.test(address);
}

export interface Mailbox {
  name: string;
  address: string;
}

/**
 * RFC 5322 specials that may not stand unquoted in a display name (the dot is allowed:
 * `J. Smith` is common and harmless). An `@`, `,`, `:` or `;` there is how a second
 * address, a list or a group hides in what looks like one mailbox.
 */
const NAME_SPECIALS = /[()<>[\]:;@\\,"]/;

/**
 * An address inside a header mailbox: a valid bare address (one `@`, no route, no IP
 * literal, no quotes: isValidAddress) that holds no RFC 2047 encoded word — `=?…?=` in an
 * address is decoded by some readers into a different address (CONTRACT §SMTP submission).
 */
function isHeaderAddress(address: string): boolean {
  return isValidAddress(address) && !address.includes('=?');
}

/** Where the quoted string opening `text` ends (index of its closing quote), or -1. */
function quotedEnd(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/** A display name: empty, one closed quoted string, or text without specials; unquoted. */
function displayName(text: string): string | undefined {
  if (!text.startsWith('"')) return NAME_SPECIALS.test(text) ? undefined : text;
  if (quotedEnd(text) !== text.length - 1) return undefined;
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * Exactly one mailbox, read strictly (CONTRACT §SMTP submission, the same rules for SMTP
 * headers and HTTP fields): a bare `local@domain`, or a display name and one closed
 * `<local@domain>` at the very end. Anything else is undefined: a list, a group, a route
 * (`<@x:a@b>`), two `@`, an unclosed `<`, text after `>`, a comment, an encoded word in
 * the address. Lenient parsers (nodemailer's addressparser) repair such input, and other
 * readers repair it differently, so a grant check on their result can be fooled (GOTCHAS).
 */
export function parseSingleMailbox(text: string): Mailbox | undefined {
  if (hasControlBreaks(text)) return undefined;
  const trimmed = text.trim();
  // A quoted display name may hold anything, `<` included: the address comes after it.
  const nameEnd = trimmed.startsWith('"') ? quotedEnd(trimmed) : 0;
  if (nameEnd === -1) return undefined;
  const open = trimmed.indexOf('<', nameEnd);
  if (open === -1) {
    if (trimmed.includes('>') || !isHeaderAddress(trimmed)) return undefined;
    return { name: '', address: trimmed };
  }
  const close = trimmed.indexOf('>', nameEnd);
  if (open !== trimmed.lastIndexOf('<') || close !== trimmed.length - 1) return undefined;
  const address = trimmed.slice(open + 1, close).trim();
  const name = displayName(trimmed.slice(0, open).trim());
  if (name === undefined || !isHeaderAddress(address)) return undefined;
  return { name, address };
}

/** Lower-case the domain; local parts are case-sensitive by the RFC but we compare as users expect. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}
