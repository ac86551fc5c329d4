import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import './nodemailer-patches.js';
import type { Mailbox } from '../../message/addresses.js';
import { randomPoolBytes } from '../../message/random-pool.js';
import type { Submission } from '../../message/types.js';
import { messageBytes } from './mime-bytes.js';
import type { CheckedMessage } from './request-checks.js';

function uniqueAddresses(lists: Mailbox[][]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { address } of lists.flat()) {
    const key = address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(address);
  }
  return out;
}

/** Mailboxes go to nodemailer as objects, so it never re-parses a string into a list. */
function asAddresses(list: Mailbox[]): Array<{ name: string; address: string }> | undefined {
  return list.length > 0 ? list.map(({ name, address }) => ({ name, address })) : undefined;
}

/**
 * `<uuid@sender-domain>`, the shape nodemailer generates, made with one random UUID
 * instead of its five randomBytes calls and a second parse of the addresses (measurable
 * per request). A non-ASCII domain is left to nodemailer, which puts it in punycode.
 */
function newMessageIdHeader(from: Mailbox): string | undefined {
  const domain = from.address.slice(from.address.lastIndexOf('@') + 1);
  return /^[\x21-\x7e]+$/.test(domain) ? `<${randomUUID()}@${domain}>` : undefined;
}

/**
 * A checked API request → the Submission for the one door. The MIME is built by
 * nodemailer's MailComposer with file and URL access off (attachments carry their bytes
 * only). MimeNode leaves Bcc out of the headers unless told `keepBcc`, which we never
 * set: bcc recipients are in the envelope only (CONTRACT §HTTP API). Message-ID and Date
 * are generated here, so the queued bytes are the bytes delivered.
 */
export async function composeSubmission(
  message: CheckedMessage,
  options: { idempotencyKey?: string | undefined } = {},
): Promise<Submission> {
  const node = new MailComposer({
    from: { name: message.from.name, address: message.from.address },
    to: asAddresses(message.to),
    cc: asAddresses(message.cc),
    bcc: asAddresses(message.bcc),
    replyTo: asAddresses(message.replyTo),
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
    attachments: message.attachments.map((attachment) => ({
      filename: attachment.filename,
      content: attachment.content,
      ...(attachment.contentType ? { contentType: attachment.contentType } : {}),
    })),
    messageId: newMessageIdHeader(message.from),
    // The random part of multipart boundaries: what MimeNode would draw itself, from the pool.
    baseBoundary: randomPoolBytes(8).toString('hex'),
    newline: 'win',
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile();
  const messageIdHeader = node.messageId();
  const raw = await messageBytes(node);
  return {
    protocol: 'http',
    envelope: {
      from: message.from.address,
      to: uniqueAddresses([message.to, message.cc, message.bcc]),
    },
    raw,
    headerSenders: [message.from.address],
    fromHeader: message.fromText,
    subject: message.subject,
    messageIdHeader,
    idempotencyKey: options.idempotencyKey,
  };
}
