import { randomPoolBytes } from './random-pool.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A message id: 9 characters of time (sortable) and 12 random ones, lowercase
 * alphanumerics only. It is the BullMQ job id too, which must have no `:` and must
 * not be an integer string.
 */
export function newMessageId(now = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  for (;;) {
    const bytes = randomPoolBytes(12);
    let random = '';
    for (const byte of bytes) random += ALPHABET[byte % 36];
    const id = time + random;
    if (!/^\d+$/.test(id)) return id;
  }
}

export function isMessageId(text: string): boolean {
  return /^[0-9a-z]{21}$/.test(text);
}
