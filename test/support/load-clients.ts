import nodemailer from 'nodemailer';

export interface Credentials {
  name: string;
  secret: string;
}

/** A ~`bytes`-sized plain-text body (printable ASCII lines, CRLF-safe). */
export function bodyOfSize(bytes: number): string {
  const line = `${'The quick brown fox jumps over the lazy dog. '.repeat(1)}0123456789012345678901234\n`;
  return line.repeat(Math.max(1, Math.ceil(bytes / line.length))).slice(0, bytes);
}

/** One message over SMTP (loopback, STARTTLS as offered, AUTH PLAIN). Resolves with the reply. */
export async function sendSmtp(
  port: number,
  credentials: Credentials,
  mail: { from: string; to: string[]; subject: string; text: string },
): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user: credentials.name, pass: credentials.secret },
    tls: { rejectUnauthorized: false },
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 10_000,
  });
  try {
    const info = await transport.sendMail(mail);
    return info.response;
  } finally {
    transport.close();
  }
}

/** One message over HTTP. Resolves with the status and JSON body. */
export async function sendHttp(
  port: number,
  credentials: Credentials,
  mail: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${credentials.secret}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: JSON.stringify(mail),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
