import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { isValidAddress } from '../../message/addresses.js';
import { htmlText } from '../../message/html-text.js';
import type { Submission } from '../../message/types.js';
import type { Form } from '../../security/forms/form-store.js';
import { messageBytes } from '../http/mime-bytes.js';
import { type Field, type FormPost, fieldValue } from './fields.js';

/** Fields the endpoint reads itself; they are not part of the lead. */
const CONTROL_FIELDS = new Set(['_gotcha', 'altcha']);

/** Control characters (CR, LF, NUL, …) in a name shown in the body: a space instead. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to remove them.
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
}

function textBody(form: Form, fields: Field[]): string {
  const lines = [`New submission to form ${form.name}`, ''];
  for (const [name, value] of fields) {
    const shown = value.includes('\n') ? `\n${value.replace(/\r\n?/g, '\n')}\n` : ` ${value}`;
    lines.push(`${oneLine(name)}:${shown}`);
  }
  return `${lines.join('\n')}\n`;
}

function htmlBody(form: Form, fields: Field[]): string {
  const rows = fields.map(
    ([name, value]) =>
      `<tr><th align="left" valign="top">${htmlText(oneLine(name))}</th><td>${htmlText(value).replace(/\r?\n/g, '<br>')}</td></tr>`,
  );
  return `<p>New submission to form ${htmlText(form.name)}</p>\n<table>\n${rows.join('\n')}\n</table>\n`;
}

/** `email` becomes Reply-To only when it is exactly one valid bare address. */
export function replyToOf(fields: Field[]): string | undefined {
  const email = fieldValue(fields, 'email').trim();
  return isValidAddress(email) ? email : undefined;
}

/**
 * A form post → the Submission for the one door (CONTRACT §Lead forms). Recipients,
 * sender and subject come from the form only; the visitor's fields are body content
 * (text and an escaped HTML table, both encoded by MailComposer, so no byte of a field
 * can start a header line) and the only header a visitor influences is Reply-To, from a
 * validated address. Attachments carry their bytes only (file and URL access off).
 */
export async function composeLead(form: Form, from: string, post: FormPost): Promise<Submission> {
  const fields = post.fields.filter(([name]) => !CONTROL_FIELDS.has(name));
  const domain = from.slice(from.lastIndexOf('@') + 1);
  const node = new MailComposer({
    from: { name: form.name, address: from },
    to: form.to.map((address) => ({ name: '', address })),
    replyTo: replyToOf(fields),
    subject: form.subject,
    text: textBody(form, fields),
    html: htmlBody(form, fields),
    attachments: post.files.map((file) => ({
      filename: oneLine(file.filename) || 'attachment',
      content: file.content,
    })),
    messageId: `<${randomUUID()}@${domain}>`,
    newline: 'win',
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile();
  return {
    protocol: 'http',
    envelope: { from, to: [...new Set(form.to)] },
    raw: await messageBytes(node),
    headerSenders: [from],
    fromHeader: `${form.name} <${from}>`,
    subject: form.subject,
    messageIdHeader: node.messageId(),
  };
}
