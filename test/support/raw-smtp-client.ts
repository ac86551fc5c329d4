import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

/** The code of a reply as read by RawSmtpClient (0 for '', a connection closed). */
export function replyCode(reply: string): number {
  return Number(reply.slice(0, 3)) || 0;
}

/**
 * The tests' one raw-socket SMTP client: it writes exactly the bytes it is given (bare LF,
 * smuggled dots, a client that talks first) from the local address it is given, and reads
 * exact reply strings (nodemailer hides them). Replies are read whole, lines joined by
 * \n: a multi-line reply ends at its `NNN ` line. Independent of the relay's own selftest
 * client, so that one cannot hide a fault of the other.
 */
export class RawSmtpClient {
  #socket: net.Socket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  #closed = false;
  #closedPromise!: Promise<void>;
  greeting = '';
  /** ms from the TCP (or TLS) connection to the whole greeting. */
  greetingMs = 0;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  /**
   * Connect and read the greeting ('' when the server closes without one). `talkFirst` is
   * written as soon as the connection is up, before the greeting (an early talker).
   */
  static async connect(
    port: number,
    options: {
      implicitTls?: boolean;
      /** The relay's address: 127.0.0.1 unless given (e.g. ::1 for IPv6 clients). */
      host?: string;
      localAddress?: string;
      talkFirst?: string | Buffer;
    } = {},
  ): Promise<RawSmtpClient> {
    const where = { host: options.host ?? '127.0.0.1', port, localAddress: options.localAddress };
    const socket = options.implicitTls
      ? tls.connect({ ...where, rejectUnauthorized: false })
      : net.connect(where);
    await new Promise<void>((resolve, reject) => {
      socket.once(options.implicitTls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const connectedAt = performance.now();
    const client = new RawSmtpClient(socket);
    if (options.talkFirst) client.write(options.talkFirst);
    client.greeting = await client.readReply();
    client.greetingMs = performance.now() - connectedAt;
    return client;
  }

  #attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.#buffer += text;
      this.#wake();
    });
    socket.on('error', () => {});
    this.#closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.#closed = true;
        this.#wake();
        resolve();
      });
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Resolves when the server closed the connection. */
  closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** The next whole reply (lines joined by \n), or '' if the connection closed first. */
  async readReply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.#buffer.split('\r\n');
      const end = lines.findIndex((line) => /^\d{3}(?: |$)/.test(line));
      if (end !== -1 && end < lines.length - 1) {
        this.#buffer = lines.slice(end + 1).join('\r\n');
        return lines.slice(0, end + 1).join('\n');
      }
      if (this.#closed) return '';
      if (Date.now() > deadline) throw new Error(`no SMTP reply; buffer: ${this.#buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Send one command line and read its reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.readReply();
  }

  /** Write raw bytes (DATA and its final dot, say) and read the reply. */
  async send(data: string | Buffer, timeoutMs?: number): Promise<string> {
    this.write(data);
    return this.readReply(timeoutMs);
  }

  write(data: string | Buffer): void {
    this.#socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** STARTTLS, then continue on the TLS socket (the caller sends EHLO again). */
  async startTls(): Promise<string> {
    const reply = await this.command('STARTTLS');
    if (!reply.startsWith('220')) return reply;
    this.#socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.#socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#buffer = '';
    this.#attach(secure);
    return reply;
  }

  /** AUTH PLAIN with an initial response. */
  authPlain(user: string, pass: string): Promise<string> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`);
  }

  close(): void {
    this.#socket.destroy();
  }
}
