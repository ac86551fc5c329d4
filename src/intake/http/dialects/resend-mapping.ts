import type { MessageStatus, MessageView } from '../../../message/types.js';
import { type Denial, deny } from '../../../security/verdict.js';
import type { AttachmentInput, MessageRequest } from '../schemas.js';
import type { ResendAttachment, ResendEmail } from './resend-schemas.js';

/** Resend fields this relay cannot honour: refused by name, not ignored. */
const UNSUPPORTED = ['scheduled_at', 'template', 'topic_id'] as const;

function refusal(message: string): Denial {
  return deny('invalid_request', message);
}

function attachmentInput(attachment: ResendAttachment, index: number): AttachmentInput | Denial {
  const name = attachment.filename ?? `#${index + 1}`;
  // CONTRACT §HTTP API: attachments carry their bytes; a path (a URL at Resend) is refused.
  if (attachment.path !== undefined) {
    return refusal(`attachment ${name}: path is not supported, send the bytes in content`);
  }
  if (attachment.content_id !== undefined) {
    return refusal(`attachment ${name}: content_id (inline images) is not supported`);
  }
  if (attachment.filename === undefined) return refusal(`attachment ${name}: filename is required`);
  if (attachment.content === undefined) return refusal(`attachment ${name}: content is required`);
  const content =
    typeof attachment.content === 'string'
      ? attachment.content
      : Buffer.from(attachment.content.data).toString('base64');
  return {
    filename: attachment.filename,
    content,
    ...(attachment.content_type !== undefined ? { contentType: attachment.content_type } : {}),
  };
}

/**
 * A Resend email → the native MessageRequest, field by field; from there it is checked
 * and composed as `/v1/messages` does it. `tags` are accepted and not kept (the relay
 * has no analytics to file them under).
 */
export function resendToMessageRequest(email: ResendEmail): MessageRequest | Denial {
  for (const field of UNSUPPORTED) {
    if (email[field] !== undefined) return refusal(`${field} is not supported by this relay`);
  }
  if (email.html === undefined && email.text === undefined) {
    return refusal('one of html or text is required');
  }
  const attachments: AttachmentInput[] = [];
  for (const [index, attachment] of (email.attachments ?? []).entries()) {
    const input = attachmentInput(attachment, index);
    if ('code' in input) return input;
    attachments.push(input);
  }
  return {
    from: email.from,
    to: email.to,
    ...(email.cc !== undefined ? { cc: email.cc } : {}),
    ...(email.bcc !== undefined ? { bcc: email.bcc } : {}),
    ...(email.reply_to !== undefined ? { replyTo: email.reply_to } : {}),
    subject: email.subject,
    ...(email.text !== undefined ? { text: email.text } : {}),
    ...(email.html !== undefined ? { html: email.html } : {}),
    ...(email.headers !== undefined ? { headers: email.headers } : {}),
    ...(attachments.length > 0 ? { attachments } : {}),
  };
}

/** Resend's `last_event` names for our statuses; a status added later reads `queued` until named. */
const LAST_EVENT: Readonly<Record<string, string>> = {
  queued: 'queued',
  held: 'queued',
  deferred: 'delivery_delayed',
  delivered: 'delivered',
  bounced: 'bounced',
  expired: 'failed',
  suppressed: 'suppressed',
  purged: 'canceled',
};

function lastEvent(view: MessageView): string {
  if (view.status !== ('partial' satisfies MessageStatus))
    return LAST_EVENT[view.status] ?? 'queued';
  // Recipients ended differently: the worst outcome is what the sender must look at.
  const statuses = new Set<string>(view.recipients.map((recipient) => recipient.status));
  return statuses.has('bounced') ? 'bounced' : statuses.has('expired') ? 'failed' : 'delivered';
}

/**
 * Resend's email object as far as the relay knows it. The record keeps the envelope, not
 * which header named each recipient, so every recipient is in `to` (the owner sent them
 * all) and `cc`/`bcc` are null; bodies are not kept in the record (null, as Resend shows
 * an email whose content it does not return).
 */
export function resendEmailObject(view: MessageView) {
  return {
    object: 'email',
    id: view.id,
    to: view.recipients.map((recipient) => recipient.address),
    from: view.from,
    created_at: view.createdAt,
    subject: view.subject,
    html: null,
    text: null,
    bcc: null,
    cc: null,
    reply_to: null,
    scheduled_at: null,
    last_event: lastEvent(view),
  };
}
