/**
 * The benchmark's messages: a plain-text message of a fixed total size, CRLF line ends
 * (bare LF would be refused as smuggling), no line starting with "." (no dot-stuffing
 * needed), a unique Subject per message so the sink can count duplicates.
 */

export const BENCH_FROM = 'bench@example.com';
export const BENCH_TO = 'sink@example.net';

const LINE = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij\r\n';

/** `bytes` of body text made of whole CRLF-terminated lines (the last one shortened). */
export function bodyText(bytes: number): string {
  if (bytes <= 2) return '\r\n';
  const whole = LINE.repeat(Math.ceil(bytes / LINE.length)).slice(0, bytes - 2);
  return `${whole.replace(/\r$/, 'x')}\r\n`;
}

/** The run tag of a benchmark Subject `bench <tag>-<connection>-<n>` ('' if none). */
export function tagOfSubject(subject: string): string {
  const match = /^bench (.+)-\d+-\d+$/.exec(subject);
  return match?.[1] ?? '';
}

/** Header block for message `token` (ends with the empty line). */
export function headerBlock(token: string): string {
  return (
    `From: Bench <${BENCH_FROM}>\r\nTo: <${BENCH_TO}>\r\nSubject: bench ${token}\r\n` +
    `Message-ID: <${token}@bench.example.com>\r\nDate: ${new Date().toUTCString()}\r\n` +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n'
  );
}

/**
 * A reusable message of about `totalBytes`: the body is built once, only the header
 * differs per message. `smtp(token)` is the DATA payload including the final `.` line.
 */
export function messageTemplate(totalBytes: number) {
  // A typical token (the runner's tags), so the total lands within a few bytes of the size.
  const headerBytes = Buffer.byteLength(headerBlock('r1-smtp-2k-postwarden-00-00000'));
  const text = bodyText(Math.max(2, totalBytes - headerBytes));
  const body = Buffer.from(`${text}.\r\n`, 'latin1');
  return {
    text,
    smtp: (token: string): [Buffer, Buffer] => [Buffer.from(headerBlock(token), 'latin1'), body],
    /** The HTTP API's JSON for the same message (contract: POST /v1/messages). */
    json: (token: string): string =>
      JSON.stringify({
        from: `Bench <${BENCH_FROM}>`,
        to: [BENCH_TO],
        subject: `bench ${token}`,
        text,
      }),
  };
}
