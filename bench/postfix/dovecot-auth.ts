import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/**
 * A minimal Dovecot authentication server (auth protocol 1.x, PLAIN only) for the
 * Postfix reference: Debian's Postfix does SASL through Cyrus or Dovecot, and neither
 * Dovecot nor Cyrus' sasldb tools are installed here. Postfix's smtpd speaks this small
 * line protocol to the socket named by `smtpd_sasl_path`; we answer it for one login.
 */

export interface Login {
  user: string;
  password: string;
}

/** The greeting a Dovecot auth server sends on every new client connection. */
export function handshake(pid: number): string {
  return [
    'VERSION\t1\t2',
    'MECH\tPLAIN\tplaintext',
    `SPID\t${pid}`,
    'CUID\t1',
    `COOKIE\t${'0'.repeat(32)}`,
    'DONE',
    '',
  ].join('\n');
}

/** Decode a SASL PLAIN response (base64 of `authzid NUL authcid NUL password`). */
export function decodePlain(
  base64: string,
): { authzid: string; user: string; password: string } | undefined {
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid, user, password] = parts as [string, string, string];
  return { authzid, user, password };
}

/**
 * The reply to one client line, or undefined when none is due (VERSION, CPID).
 * `AUTH <id> PLAIN ... resp=<b64>` → `OK <id> user=<name>` or `FAIL <id>`; without an
 * initial response we ask for it with an empty `CONT`. `CONT <id> <b64>` finishes it.
 */
export function answerLine(line: string, login: Login): string | undefined {
  const fields = line.split('\t');
  const [command, id] = fields;
  if (command === 'AUTH' && id !== undefined) {
    if (fields[2]?.toUpperCase() !== 'PLAIN') return `FAIL\t${id}\treason=unsupported mechanism\n`;
    const resp = fields.find((field) => field.startsWith('resp='));
    if (resp === undefined) return `CONT\t${id}\t\n`;
    return verdict(id, resp.slice('resp='.length), login);
  }
  if (command === 'CONT' && id !== undefined) return verdict(id, fields[2] ?? '', login);
  return undefined;
}

function verdict(id: string, base64: string, login: Login): string {
  const plain = decodePlain(base64);
  const ok =
    plain !== undefined &&
    (plain.authzid === '' || plain.authzid === plain.user) &&
    plain.user === login.user &&
    plain.password === login.password;
  return ok ? `OK\t${id}\tuser=${login.user}\n` : `FAIL\t${id}\tuser=${plain?.user ?? ''}\n`;
}

/** Listen on `socketPath` (mode 0666, so Postfix's unprivileged smtpd can connect). */
export async function startDovecotAuth(socketPath: string, login: Login): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.write(handshake(process.pid));
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const reply = answerLine(buffered.slice(0, newline), login);
        if (reply) socket.write(reply);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o666);
  return server;
}
