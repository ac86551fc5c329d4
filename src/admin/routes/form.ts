import type { FastifyInstance } from 'fastify';

const FORM_LIMIT_BYTES = 64 * 1024;

/**
 * Admin forms post `application/x-www-form-urlencoded`; this parser exists only inside the
 * admin context (fastify content-type parsers are encapsulated), bounded to 64 KiB.
 * Repeated fields keep their first value.
 */
export function addFormParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES },
    (_request, body, done) => {
      const fields: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(body as string)) {
        if (!(key in fields)) fields[key] = value;
      }
      done(null, fields);
    },
  );
}

/** A string field of a parsed form or JSON body ('' when absent or not a string). */
export function field(body: unknown, name: string): string {
  if (!body || typeof body !== 'object') return '';
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

/** A query-string value as a string ('' when absent or repeated oddly). */
export function queryField(query: unknown, name: string): string {
  return field(query, name);
}

export const ADMIN_BODY_LIMIT = FORM_LIMIT_BYTES;
