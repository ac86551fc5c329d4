/**
 * The Postmark dialect's request schemas (CONTRACT §Compatible APIs), as the official
 * `postmark` SDK (5.x) sends them: PascalCase fields, `To`/`Cc`/`Bcc`/`ReplyTo` as one
 * comma-separated string, `Headers` and `Attachments` as lists of objects. Postmark's
 * tracking and routing fields (`Tag`, `Metadata`, `MessageStream`, `TrackOpens`,
 * `TrackLinks`, `InlineCss`) are accepted and have no effect here. Optional fields may be
 * null: the SDK's model classes and many apps send them so.
 */

const text = (maxLength?: number) =>
  ({ type: ['string', 'null'], ...(maxLength ? { maxLength } : {}) }) as const;

const header = {
  type: 'object',
  additionalProperties: false,
  required: ['Name', 'Value'],
  properties: {
    Name: { type: 'string', maxLength: 255 },
    Value: { type: 'string', maxLength: 998 },
  },
} as const;

const attachment = {
  type: 'object',
  additionalProperties: false,
  required: ['Name', 'Content'],
  properties: {
    Name: { type: 'string', maxLength: 255 },
    Content: { type: 'string' },
    ContentType: text(255),
    ContentID: text(255),
    ContentLength: { type: ['integer', 'null'] },
    Disposition: text(32),
  },
} as const;

export const postmarkEmailSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['From'],
  properties: {
    From: { type: 'string', minLength: 3, maxLength: 998 },
    To: text(100_000),
    Cc: text(100_000),
    Bcc: text(100_000),
    ReplyTo: text(100_000),
    Subject: text(998),
    HtmlBody: text(),
    TextBody: text(),
    Headers: { type: ['array', 'null'], maxItems: 100, items: header },
    Attachments: { type: ['array', 'null'], maxItems: 100, items: attachment },
    Tag: text(1000),
    Metadata: { type: ['object', 'null'], additionalProperties: { type: ['string', 'null'] } },
    MessageStream: text(255),
    TrackOpens: { type: ['boolean', 'null'] },
    TrackLinks: text(32),
    InlineCss: { type: ['boolean', 'null'] },
  },
} as const;

/** Postmark's limit on one batch. */
export const POSTMARK_BATCH_MAX = 500;

export const postmarkBatchSchema = {
  type: 'array',
  minItems: 1,
  maxItems: POSTMARK_BATCH_MAX,
  items: postmarkEmailSchema,
} as const;

type Text = string | null | undefined;

export interface PostmarkAttachment {
  Name: string;
  Content: string;
  ContentType?: Text;
  ContentID?: Text;
  ContentLength?: number | null;
  Disposition?: Text;
}

/** One email after schema validation. */
export interface PostmarkEmail {
  From: string;
  To?: Text;
  Cc?: Text;
  Bcc?: Text;
  ReplyTo?: Text;
  Subject?: Text;
  HtmlBody?: Text;
  TextBody?: Text;
  Headers?: Array<{ Name: string; Value: string }> | null;
  Attachments?: PostmarkAttachment[] | null;
}
