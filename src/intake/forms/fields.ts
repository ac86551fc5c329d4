import type { FastifyRequest } from 'fastify';
import { PostwardenError } from '../../errors.js';

/** One field as the visitor sent it: names and values are content, never headers. */
export type Field = [name: string, value: string];

export interface FormFile {
  filename: string;
  content: Buffer;
}

export interface FormPost {
  fields: Field[];
  files: FormFile[];
}

/** CONTRACT §Lead forms: bodies over 64 KiB without files, or 10 MiB with, get 413. */
export const FIELDS_BODY_LIMIT = 64 * 1024;
export const FILES_BODY_LIMIT = 10 * 1024 * 1024;
/** Past this many parts a multipart body is refused (busboy counts them as it reads). */
const MAX_PARTS = 10_000;

function tooLarge(limit: number): PostwardenError {
  return Object.assign(new PostwardenError('too_large', `the body exceeds ${limit} bytes`), {
    statusCode: 413,
  });
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A parsed urlencoded or JSON body (an object; repeated names are arrays) → fields. */
export function fieldsOfObject(body: unknown): Field[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [];
  const fields: Field[] = [];
  for (const [name, value] of Object.entries(body)) {
    for (const one of Array.isArray(value) ? value : [value]) fields.push([name, asText(one)]);
  }
  return fields;
}

export function isMultipart(request: FastifyRequest): boolean {
  return /^multipart\/form-data/i.test(request.headers['content-type'] ?? '');
}

/**
 * A multipart body, read part by part (@fastify/multipart): files become attachments.
 * The whole body counts against 10 MiB, and against 64 KiB when it carried no file.
 */
export async function readMultipart(request: FastifyRequest): Promise<FormPost> {
  const post: FormPost = { fields: [], files: [] };
  let total = 0;
  const parts = request.parts({
    limits: {
      fileSize: FILES_BODY_LIMIT,
      fieldSize: FIELDS_BODY_LIMIT,
      parts: MAX_PARTS,
      fields: MAX_PARTS,
    },
  });
  for await (const part of parts) {
    if (part.type === 'file') {
      const content = await part.toBuffer();
      total += content.length;
      if (total > FILES_BODY_LIMIT) throw tooLarge(FILES_BODY_LIMIT);
      if (part.filename || content.length > 0)
        post.files.push({ filename: part.filename, content });
    } else {
      const value = asText(part.value);
      total += part.fieldname.length + value.length;
      if (total > FILES_BODY_LIMIT) throw tooLarge(FILES_BODY_LIMIT);
      post.fields.push([part.fieldname, value]);
    }
  }
  if (post.files.length === 0 && total > FIELDS_BODY_LIMIT) throw tooLarge(FIELDS_BODY_LIMIT);
  return post;
}

/** The value of the first field named `name`, or ''. */
export function fieldValue(fields: Field[], name: string): string {
  return fields.find(([field]) => field === name)?.[1] ?? '';
}
