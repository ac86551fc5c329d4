import type MimeNode from 'nodemailer/lib/mime-node';

/**
 * The bytes of a composed message. nodemailer's `build()` streams every message through a
 * pipeline of transform streams and `setImmediate` hops; profiled under load that cost
 * more CPU than the rest of the HTTP accept path together. A single-part message whose
 * body MimeNode sends as `7bit` (ASCII text with no line over 76 characters, the usual
 * transactional mail) needs none of it: it is the header block, an empty line and the
 * body. Those are joined here with the two final steps `build()` applies with
 * `newline: 'win'` — a line break at the end (its LastNewline) and CRLF for every bare LF
 * (its LeWindows). Anything else (multipart, attachments, quoted-printable or base64
 * bodies) goes through `build()`. test/unit/http-mime-bytes.test.ts checks that both give
 * the same bytes.
 */
export async function messageBytes(node: MimeNode): Promise<Buffer> {
  if (!isPlainSinglePart(node)) return node.build();
  const head = node.buildHeaders();
  // buildHeaders decides multipart-ness; checked again in case a future version moves it.
  if (node.multipart) return node.build();
  let text = `${head}\r\n\r\n${node.content as string}`;
  if (text.endsWith('\r')) text += '\n';
  else if (!text.endsWith('\n')) text += '\r\n';
  return Buffer.from(text.replace(/(?<!\r)\n/g, '\r\n'), 'utf8');
}

function isPlainSinglePart(node: MimeNode): boolean {
  return (
    node.childNodes.length === 0 &&
    typeof node.content === 'string' &&
    node.content.length > 0 &&
    node.newline === 'win' &&
    node.getTransferEncoding() === '7bit'
  );
}
