import { type Denial, deny } from '../../../security/verdict.js';
import type { AttachmentInput, MessageRequest } from '../schemas.js';
import { splitAddressList } from './address-list.js';
import type { PostmarkAttachment, PostmarkEmail } from './postmark-schemas.js';

function refusal(message: string): Denial {
  return deny('invalid_request', message);
}

function addresses(value: string | null | undefined): string[] | undefined {
  if (value === null || value === undefined) return undefined;
  const list = splitAddressList(value);
  return list.length > 0 ? list : undefined;
}

function headersObject(email: PostmarkEmail): { headers: Record<string, string> } | Denial {
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const { Name, Value } of email.Headers ?? []) {
    // An object has one value per name: a repeated header cannot be kept, so say so.
    if (seen.has(Name.toLowerCase())) return refusal(`header ${Name} is given twice`);
    seen.add(Name.toLowerCase());
    headers[Name] = Value;
  }
  return { headers };
}

function attachmentInput(attachment: PostmarkAttachment): AttachmentInput | Denial {
  if (attachment.ContentID || attachment.Disposition === 'inline') {
    return refusal(
      `attachment ${attachment.Name}: inline attachments (ContentID) are not supported`,
    );
  }
  return {
    filename: attachment.Name,
    content: attachment.Content,
    ...(attachment.ContentType ? { contentType: attachment.ContentType } : {}),
  };
}

/**
 * A Postmark email → the native MessageRequest; from there it is checked and composed as
 * `/v1/messages` does it. A missing Subject is an empty one, as Postmark sends it.
 */
export function postmarkToMessageRequest(email: PostmarkEmail): MessageRequest | Denial {
  if (typeof email.HtmlBody !== 'string' && typeof email.TextBody !== 'string') {
    return refusal('Provide either email TextBody or HtmlBody or both.');
  }
  // Wrapped: a header may well be named "code".
  const checked = headersObject(email);
  if (!('headers' in checked)) return checked;
  const { headers } = checked;
  const attachments: AttachmentInput[] = [];
  for (const attachment of email.Attachments ?? []) {
    const input = attachmentInput(attachment);
    if ('code' in input) return input;
    attachments.push(input);
  }
  const to = addresses(email.To);
  const cc = addresses(email.Cc);
  const bcc = addresses(email.Bcc);
  const replyTo = addresses(email.ReplyTo);
  return {
    from: email.From,
    ...(to ? { to } : {}),
    ...(cc ? { cc } : {}),
    ...(bcc ? { bcc } : {}),
    ...(replyTo ? { replyTo } : {}),
    subject: email.Subject ?? '',
    ...(typeof email.TextBody === 'string' ? { text: email.TextBody } : {}),
    ...(typeof email.HtmlBody === 'string' ? { html: email.HtmlBody } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(attachments.length > 0 ? { attachments } : {}),
  };
}
