/**
 * The Resend dialect's request schemas (CONTRACT §Compatible APIs), as the official
 * `resend` SDK (6.x) sends them: snake_case fields, `to`/`cc`/`bcc`/`reply_to` as one
 * address or a list, attachments with base64 `content` (the SDK turns a Buffer into
 * base64; older SDKs sent JSON's `{"type":"Buffer","data":[…]}`, accepted too). Fields
 * Resend has and this relay cannot honour (`scheduled_at`, `template`, `topic_id`, an
 * attachment `path` or `content_id`) are known here so the answer can say so plainly
 * (resend.ts refuses them with a 422), rather than "unknown field".
 */

const address = { type: 'string', maxLength: 998 } as const;

const addressList = {
  anyOf: [address, { type: 'array', maxItems: 10_000, items: address }],
} as const;

/** A Node Buffer as JSON.stringify writes it. */
const bufferJson = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'data'],
  properties: {
    type: { const: 'Buffer' },
    data: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 } },
  },
} as const;

const attachment = {
  type: 'object',
  additionalProperties: false,
  properties: {
    filename: { type: 'string', maxLength: 255 },
    content: { anyOf: [{ type: 'string' }, bufferJson] },
    content_type: { type: 'string', maxLength: 255 },
    path: { type: 'string' },
    content_id: { type: 'string' },
  },
} as const;

const tag = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'value'],
  properties: {
    name: { type: 'string', maxLength: 256 },
    value: { type: 'string', maxLength: 256 },
  },
} as const;

export const resendEmailSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to', 'subject'],
  properties: {
    from: { type: 'string', minLength: 3, maxLength: 998 },
    to: addressList,
    cc: addressList,
    bcc: addressList,
    reply_to: addressList,
    subject: { type: 'string', maxLength: 998 },
    html: { type: 'string' },
    text: { type: 'string' },
    headers: {
      type: 'object',
      maxProperties: 100,
      additionalProperties: { type: 'string', maxLength: 998 },
    },
    attachments: { type: 'array', maxItems: 100, items: attachment },
    tags: { type: 'array', maxItems: 50, items: tag },
    scheduled_at: { type: 'string' },
    template: { type: 'object' },
    topic_id: { type: 'string' },
  },
} as const;

/** Resend's limit on one batch (CONTRACT §Compatible APIs: up to 100). */
export const RESEND_BATCH_MAX = 100;

export const resendBatchSchema = {
  type: 'array',
  minItems: 1,
  maxItems: RESEND_BATCH_MAX,
  items: resendEmailSchema,
} as const;

export const resendParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string' } },
} as const;

type AddressInput = string | string[];

export interface ResendAttachment {
  filename?: string;
  content?: string | { type: 'Buffer'; data: number[] };
  content_type?: string;
  path?: string;
  content_id?: string;
}

/** One email after schema validation. */
export interface ResendEmail {
  from: string;
  to: AddressInput;
  cc?: AddressInput;
  bcc?: AddressInput;
  reply_to?: AddressInput;
  subject: string;
  html?: string;
  text?: string;
  headers?: Record<string, string>;
  attachments?: ResendAttachment[];
  tags?: Array<{ name: string; value: string }>;
  scheduled_at?: string;
  template?: object;
  topic_id?: string;
}
