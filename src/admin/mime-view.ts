import { decodeEncodedWords, parseHeaders } from '../message/headers.js';

/**
 * Just enough MIME reading to show a stored message to an operator: its headers, the first
 * text/plain and text/html parts, and the names of attachments. Display only — the queued
 * bytes are never changed. Depth and part counts are capped: the input is untrusted.
 */
export interface MessageParts {
  headers: Array<{ name: string; value: string }>;
  text: string | undefined;
  html: string | undefined;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
}

const MAX_DEPTH = 8;
const MAX_PARTS = 100;

interface Entity {
  headers: Array<{ name: string; value: string }>;
  body: Buffer;
}

function splitEntity(raw: Buffer): Entity {
  const parsed = parseHeaders(raw);
  const block = raw.subarray(0, parsed.headerLength).toString('latin1');
  const headers = parsed.fields.map((field) => ({
    name: block.slice(field.start, field.start + block.slice(field.start).indexOf(':')).trim(),
    value: decodeEncodedWords(field.value),
  }));
  return { headers, body: raw.subarray(parsed.headerLength) };
}

function header(entity: Entity, name: string): string {
  return entity.headers.find((field) => field.name.toLowerCase() === name)?.value ?? '';
}

function parameter(value: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${name}\\*?\\s*=\\s*("([^"]*)"|[^;\\s]*)`, 'i').exec(value);
  if (!match) return undefined;
  const raw = match[2] ?? match[1] ?? '';
  // RFC 2231 `utf-8''name` form; a broken escape is shown as written, never an error (a
  // client must not be able to hide its message from the operator with a bad filename).
  const extended = /^([\w-]+)'[^']*'(.*)$/.exec(raw);
  if (!extended) return raw;
  try {
    return decodeURIComponent(extended[2] ?? '');
  } catch {
    return extended[2] ?? '';
  }
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding.trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable': {
      const text = body
        .toString('latin1')
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        );
      return Buffer.from(text, 'latin1');
    }
    default:
      return body;
  }
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset?.toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const parts: Buffer[] = [];
  let index = text.indexOf(delimiter);
  while (index !== -1 && parts.length < MAX_PARTS) {
    const start = text.indexOf('\n', index) + 1;
    if (start === 0 || text.startsWith(`${delimiter}--`, index)) break;
    const next = text.indexOf(`\r\n${delimiter}`, start);
    const end = next === -1 ? text.length : next;
    parts.push(Buffer.from(text.slice(start, end), 'latin1'));
    index = next === -1 ? -1 : next + 2;
  }
  return parts;
}

function walk(entity: Entity, out: MessageParts, depth: number): void {
  const type = header(entity, 'content-type') || 'text/plain';
  const mediaType = (type.split(';')[0] ?? '').trim().toLowerCase();
  const boundary = parameter(type, 'boundary');
  if (mediaType.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    for (const part of splitMultipart(entity.body, boundary)) {
      walk(splitEntity(part), out, depth + 1);
    }
    return;
  }
  const disposition = header(entity, 'content-disposition');
  const bytes = decodeTransfer(entity.body, header(entity, 'content-transfer-encoding'));
  const filename = parameter(disposition, 'filename') ?? parameter(type, 'name');
  const isAttachment = /^\s*attachment/i.test(disposition) || filename !== undefined;
  if (!isAttachment && mediaType === 'text/plain' && out.text === undefined) {
    out.text = decodeCharset(bytes, parameter(type, 'charset'));
  } else if (!isAttachment && mediaType === 'text/html' && out.html === undefined) {
    out.html = decodeCharset(bytes, parameter(type, 'charset'));
  } else {
    out.attachments.push({
      filename: filename ?? '(unnamed)',
      contentType: mediaType,
      size: bytes.length,
    });
  }
}

export function readMessageParts(raw: Buffer): MessageParts {
  const root = splitEntity(raw);
  const out: MessageParts = {
    headers: root.headers,
    text: undefined,
    html: undefined,
    attachments: [],
  };
  try {
    walk(root, out, 0);
  } catch {
    // Display only: whatever the content, the page shows what could be read.
  }
  return out;
}
