import net from 'node:net';
import tls from 'node:tls';

/** One SMTP reply: the code, and every line's text joined (enhanced code included). */
export interface SmtpReply {
  code: number;
  text: string;
  lines: string[];
}

/**
 * A deliberately literal SMTP client for probing a server the way an attacker would:
 * it writes exactly the bytes it is given (bare LF, odd commands, smuggled dots) and
 * reads replies line by line. Not a mail sender: nodemailer is for that.
 */
export class SmtpDialogue {
  #socket: net.Socket | tls.TLSSocket;
  #buffer = '';
  #waiters: Array<() => void> = [];
  #closed = false;

  private constructor(socket: net.Socket | tls.TLSSocket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async open(
    host: string,
    port: number,
    options: { implicitTls?: boolean; timeoutMs?: number; localAddress?: string } = {},
  ): Promise<{ dialogue: SmtpDialogue; greeting: SmtpReply }> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const socket = await new Promise<net.Socket | tls.TLSSocket>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      const connectOptions = {
        host,
        port,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      };
      const created = options.implicitTls
        ? tls.connect({ ...connectOptions, rejectUnauthorized: false, servername: undefined }, () =>
            resolve(created),
          )
        : net.connect(connectOptions, () => resolve(created));
      created.once('error', onError);
      created.setTimeout(timeoutMs, () => created.destroy(new Error('timeout')));
    });
    const dialogue = new SmtpDialogue(socket);
    const greeting = await dialogue.read();
    return { dialogue, greeting };
  }

  #attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get secure(): boolean {
    return this.#socket instanceof tls.TLSSocket;
  }

  /** Read one complete (possibly multi-line) reply; code 0 when the server hung up. */
  async read(): Promise<SmtpReply> {
    const lines: string[] = [];
    for (;;) {
      const end = this.#buffer.indexOf('\r\n');
      if (end !== -1) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        lines.push(line);
        if (line.length < 4 || line[3] !== '-') {
          return {
            code: Number(line.slice(0, 3)) || 0,
            text: lines.map((l) => l.slice(4)).join('\n'),
            lines,
          };
        }
        continue;
      }
      if (this.#closed) return { code: 0, text: 'connection closed', lines };
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Write raw bytes (a command needs its own CRLF) and read the reply. */
  async send(raw: string | Buffer): Promise<SmtpReply> {
    this.write(raw);
    return this.read();
  }

  async command(line: string): Promise<SmtpReply> {
    return this.send(`${line}\r\n`);
  }

  write(raw: string | Buffer): void {
    if (!this.#closed)
      this.#socket.write(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
  }

  /** STARTTLS and upgrade the socket; resolves with the STARTTLS reply. */
  async startTls(): Promise<SmtpReply> {
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) return reply;
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const upgraded = tls.connect({ socket: plain, rejectUnauthorized: false }, () =>
        resolve(upgraded),
      );
      upgraded.once('error', reject);
    });
    this.#socket = secure;
    this.#buffer = '';
    this.#attach(secure);
    return reply;
  }

  /** AUTH PLAIN with an initial response. */
  async authPlain(user: string, password: string): Promise<SmtpReply> {
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    return this.command(`AUTH PLAIN ${token}`);
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.write('QUIT\r\n');
      this.#socket.end();
    }
    this.#socket.destroy();
  }
}
