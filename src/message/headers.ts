/**
 * A small reader/editor for the header block of a raw message. It never re-encodes the
 * message: edits remove whole header fields or prepend new ones, and the body bytes are
 * passed through untouched (ARCHITECTURE: keep the raw message, edit only what the
 * contract names).
 */

export interface HeaderField {
  /** Lower-cased field name. */
  key: string;
  /** Unfolded value, leading whitespace trimmed. */
  value: string;
  /** Byte range of the whole field (folded lines and final CRLF) in the header block. */
  start: number;
  end: number;
}

export interface ParsedHeaders {
  fields: HeaderField[];
  /** Length of the header block including the blank line that ends it (0 if none). */
  headerLength: number;
}

/** Find the end of the header block: the first CRLFCRLF (or the whole message). */
function headerBlockLength(raw: Buffer): number {
  if (raw.length >= 2 && raw[0] === 0x0d && raw[1] === 0x0a) return 2; // no headers at all
  const index = raw.indexOf('\r\n\r\n');
  return index === -1 ? raw.length : index + 4;
}

export function parseHeaders(raw: Buffer): ParsedHeaders {
  const headerLength = headerBlockLength(raw);
  // latin1 keeps one char per byte, so string offsets are byte offsets.
  const block = raw.subarray(0, headerLength).toString('latin1');
  const fields: HeaderField[] = [];
  let position = 0;
  while (position < block.length) {
    let lineEnd = block.indexOf('\r\n', position);
    if (lineEnd === -1) lineEnd = block.length;
    if (lineEnd === position) break; // the blank line
    // Continuation lines start with space or tab.
    let fieldEnd = lineEnd + 2;
    while (fieldEnd < block.length && (block[fieldEnd] === ' ' || block[fieldEnd] === '\t')) {
      const next = block.indexOf('\r\n', fieldEnd);
      fieldEnd = next === -1 ? block.length : next + 2;
    }
    const text = block.slice(position, Math.min(fieldEnd, block.length));
    const colon = text.indexOf(':');
    if (colon > 0) {
      const value = text
        .slice(colon + 1)
        .replace(/\r\n(?=[ \t])/g, '')
        .replace(/\r\n$/, '')
        .trim();
      fields.push({
        key: text.slice(0, colon).trim().toLowerCase(),
        value: Buffer.from(value, 'latin1').toString('utf8'),
        start: position,
        end: Math.min(fieldEnd, block.length),
      });
    }
    position = fieldEnd;
  }
  return { fields, headerLength };
}

export function headerValues(parsed: ParsedHeaders, name: string): string[] {
  const key = name.toLowerCase();
  return parsed.fields.filter((field) => field.key === key).map((field) => field.value);
}

export interface HeaderEdit {
  /** Field names to remove, every occurrence (case-insensitive). */
  remove?: string[];
  /** Lines to put in front (ASCII, without CRLF). */
  prepend?: string[];
  /**
   * Set when the caller owns `raw` and lets it be edited in place, with this many spare
   * bytes before it in its memory (0 = none); unset = `raw` is never written to.
   */
  headroom?: number | undefined;
}

/**
 * Remove fields and prepend lines; the body is untouched. Returns `raw` itself when there
 * is nothing to do. In place when allowed and the header grows by at most `headroom`
 * bytes: the kept header bytes before a removed field move toward the body over it and
 * the new lines go in front, so only the header block is written and a 25 MB message is
 * not copied. Otherwise one new buffer.
 */
export function editHeaders(raw: Buffer, parsed: ParsedHeaders, edit: HeaderEdit): Buffer {
  const drop = new Set((edit.remove ?? []).map((name) => name.toLowerCase()));
  const removed = parsed.fields.filter((field) => drop.has(field.key));
  const lines = edit.prepend ?? [];
  if (removed.length === 0 && lines.length === 0) return raw;
  const prefix = Buffer.from(lines.map((line) => `${line}\r\n`).join(''), 'latin1');
  const removedBytes = removed.reduce((sum, field) => sum + field.end - field.start, 0);
  if (edit.headroom !== undefined && prefix.length - removedBytes <= edit.headroom) {
    return editInPlace(raw, removed, prefix, removedBytes);
  }
  const parts: Buffer[] = [prefix];
  let cursor = 0;
  for (const field of removed) {
    parts.push(raw.subarray(cursor, field.start));
    cursor = field.end;
  }
  parts.push(raw.subarray(cursor));
  return Buffer.concat(parts, raw.length - removedBytes + prefix.length);
}

function editInPlace(
  raw: Buffer,
  removed: HeaderField[],
  prefix: Buffer,
  removedBytes: number,
): Buffer {
  // Last removed field first: the stretch before it moves right by the bytes removed
  // from there on, so it ends where the kept text after that field now begins.
  let shift = 0;
  for (let i = removed.length - 1; i >= 0; i--) {
    const field = removed[i] as HeaderField;
    shift += field.end - field.start;
    const from = i === 0 ? 0 : (removed[i - 1] as HeaderField).end;
    raw.copyWithin(from + shift, from, field.start);
  }
  // The edited message now starts at `removedBytes`; the prefix goes right before it,
  // reaching into the headroom when it is longer than what was removed.
  const start = raw.byteOffset + removedBytes - prefix.length;
  const edited = Buffer.from(raw.buffer, start, raw.length - removedBytes + prefix.length);
  prefix.copy(edited, 0);
  return edited;
}

/** RFC 5322 date, e.g. `Sat, 21 Nov 2026 18:00:00 +0000`. */
export function formatRfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/** Decode RFC 2047 encoded words for display (Subject, names); unknown charsets stay as-is. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between adjacent encoded words is dropped
    .replace(ENCODED_WORD, (whole, charset: string, encoding: string, text: string) => {
      try {
        const bytes =
          encoding.toUpperCase() === 'B'
            ? Buffer.from(text, 'base64')
            : Buffer.from(
                text
                  .replace(/_/g, ' ')
                  .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
                    String.fromCharCode(Number.parseInt(hex, 16)),
                  ),
                'latin1',
              );
        return new TextDecoder(charset.split('*')[0]).decode(bytes);
      } catch {
        return whole;
      }
    });
}
