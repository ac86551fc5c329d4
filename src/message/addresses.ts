import addressparser from 'nodemailer/lib/addressparser';

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
 * Exactly one mailbox from a header-style string (`Shop <orders@example.com>` or a bare
 * address). A list, a group, or an invalid address gives undefined: one address per
 * string, so a list cannot be smuggled inside one field.
 */
export function parseSingleMailbox(text: string): Mailbox | undefined {
  if (hasControlBreaks(text)) return undefined;
  const parsed = addressparser(text);
  if (parsed.length !== 1) return undefined;
  const entry = parsed[0];
  if (!entry || ('group' in entry && entry.group)) return undefined;
  const address = (entry as { address?: string }).address ?? '';
  if (!isValidAddress(address)) return undefined;
  return { name: (entry as { name?: string }).name ?? '', address };
}

/** Every mailbox in a header value (From: may hold several); invalid entries are kept as-is. */
export function parseMailboxList(text: string): string[] {
  const out: string[] = [];
  const walk = (entries: ReturnType<typeof addressparser>) => {
    for (const entry of entries) {
      const group = (entry as { group?: ReturnType<typeof addressparser> }).group;
      if (group) walk(group);
      else out.push((entry as { address?: string }).address ?? '');
    }
  };
  walk(addressparser(text));
  return out;
}

/** Lower-case the domain; local parts are case-sensitive by the RFC but we compare as users expect. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}
