/** 1 for every character of the base64 alphabet (RFC 4648 §4), 0 otherwise. */
const ALPHABET = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  ALPHABET[char.charCodeAt(0)] = 1;
}

/**
 * Whether `text` is canonical-length base64: groups of four alphabet characters, the last
 * one optionally ending in `=` or `==`. A linear scan — a regular expression with a
 * repeated group overflows V8's regex stack on input of a few MB (GOTCHAS §fastify 5),
 * which made a large attachment answer 500 instead of being accepted.
 */
export function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const end = text.length - padding;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || ALPHABET[code] !== 1) return false;
  }
  return true;
}
