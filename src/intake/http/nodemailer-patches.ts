import { createRequire } from 'node:module';
import MimeNode from 'nodemailer/lib/mime-node';

/**
 * The one change Postwarden makes to nodemailer's internals, for speed only (issue 14).
 * MimeNode normalises a header name (`_normalizeHeaderKey`: strip, lower-case, then
 * re-case by its rules) on every setHeader, getHeader and buildHeaders, several times per
 * header per message: a fifth of composing a short message, profiled. The function is
 * pure — its answer depends on the name alone — so its answers are kept, for a bounded
 * number of names (custom header names come from API clients). Written against and only
 * applied on the version below, which package.json pins; any other version is left as it
 * is (correct, slower), and test/unit/nodemailer-patches.test.ts fails until this file
 * is checked against it.
 */
export const NODEMAILER_VERSION_PATCHED = '10.6.0';

/** Header names remembered; past this, names are normalised as nodemailer does, unkept. */
const MAX_REMEMBERED = 1000;

interface Normalizing {
  _normalizeHeaderKey(key: unknown): string;
}

export function nodemailerVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('nodemailer/package.json') as { version: string }).version;
}

/** Whether the patch is in place (applied once, on import, on the pinned version). */
export const headerKeysRemembered: boolean = rememberHeaderKeys();

function rememberHeaderKeys(): boolean {
  if (nodemailerVersion() !== NODEMAILER_VERSION_PATCHED) return false;
  const proto = MimeNode.prototype as unknown as Normalizing;
  const normalize = proto._normalizeHeaderKey;
  if (typeof normalize !== 'function') return false;
  const known = new Map<string, string>();
  proto._normalizeHeaderKey = function rememberedHeaderKey(this: unknown, key: unknown) {
    if (typeof key !== 'string') return normalize.call(this, key);
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    const normalized = normalize.call(this, key);
    if (known.size < MAX_REMEMBERED) known.set(key, normalized);
    return normalized;
  };
  return true;
}
