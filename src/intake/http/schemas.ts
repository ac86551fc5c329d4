/**
 * JSON schemas of the API (CONTRACT §HTTP API). Unknown fields are refused
 * (additionalProperties false with Ajv's removeAdditional off), and an attachment has no
 * way to name content other than its base64 `content`: `path`, `href`, `url`, `raw` are
 * unknown fields, hence a 400.
 */

/** One address per string, or an array of such strings. */
const addressField = {
  anyOf: [
    { type: 'string', maxLength: 998 },
    { type: 'array', maxItems: 10_000, items: { type: 'string', maxLength: 998 } },
  ],
} as const;

const attachmentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['filename', 'content'],
  properties: {
    filename: { type: 'string', minLength: 1, maxLength: 255 },
    contentType: { type: 'string', minLength: 3, maxLength: 255 },
    content: { type: 'string' },
  },
} as const;

export const messageBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'subject'],
  anyOf: [{ required: ['text'] }, { required: ['html'] }],
  properties: {
    from: { type: 'string', minLength: 3, maxLength: 998 },
    to: addressField,
    cc: addressField,
    bcc: addressField,
    replyTo: addressField,
    subject: { type: 'string', maxLength: 998 },
    text: { type: 'string' },
    html: { type: 'string' },
    headers: {
      type: 'object',
      maxProperties: 100,
      additionalProperties: { type: 'string', maxLength: 998 },
    },
    attachments: { type: 'array', maxItems: 100, items: attachmentSchema },
  },
} as const;

export type AddressInput = string | string[];

export interface AttachmentInput {
  filename: string;
  contentType?: string;
  /** Base64. */
  content: string;
}

/** The request body after schema validation. */
export interface MessageRequest {
  from: string;
  to?: AddressInput;
  cc?: AddressInput;
  bcc?: AddressInput;
  replyTo?: AddressInput;
  subject: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: AttachmentInput[];
}

export const messageParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string' } },
} as const;
