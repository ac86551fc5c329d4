import { connect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

/**
 * A lean SMTP client on a raw socket for load generation: no per-message transport
 * object, MAIL/RCPT/DATA sent in one pipelined write (RFC 2920), the message written
 * as two buffers. nodemailer per message costs more CPU than the servers under test
 * on a 2-core machine; this stays a small fraction of it.
 */

export interface Reply {
  code: number;
  text: string;
}

export interface SessionOptions {
  port: number;
  user: string;
  password: string;
  /** Per-reply timeout. */
  timeoutMs?: number;
}

export class SmtpReplyError extends Error {
  constructor(
    readonly stage: string,
    readonly reply: Reply,
  ) {
    super(`${stage}: ${reply.code} ${reply.text.split('\r\n')[0]}`);
  }
}

/** Splits a byte stream into SMTP replies (multi-line `250-...` joined) in order. */
export class ReplyParser {
  private buffered = '';
  private lines: string[] = [];
  constructor(private readonly onReply: (reply: Reply) => void) {}

  feed(chunk: string): void {
    this.buffered += chunk;
    let end = this.buffered.indexOf('\r\n');
    while (end !== -1) {
      const line = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 2);
      this.lines.push(line.slice(4));
      if (line.charAt(3) !== '-') {
        this.onReply({ code: Number(line.slice(0, 3)), text: this.lines.join('\r\n') });
        this.lines = [];
      }
      end = this.buffered.indexOf('\r\n');
    }
  }
}

export class SmtpSession {
  private waiters: { resolve(reply: Reply): void; reject(error: Error): void }[] = [];
  private early: Reply[] = [];
  private failure: Error | undefined;
  private envelopeSent = false;
  private socket: Socket | TLSSocket;
  private readonly parser = new ReplyParser((reply) => {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(reply);
    else this.early.push(reply);
  });

  private constructor(
    socket: Socket,
    private readonly timeoutMs: number,
  ) {
    this.socket = socket;
    this.listen(socket);
  }

  /** Connect, STARTTLS, AUTH PLAIN: a session ready for MAIL FROM. */
  static async open(options: SessionOptions): Promise<SmtpSession> {
    const socket = connect({ host: '127.0.0.1', port: options.port, noDelay: true });
    const session = new SmtpSession(socket, options.timeoutMs ?? 30_000);
    try {
      await session.expect('greeting', 220);
      await session.command('EHLO bench.example.com', 'EHLO', 250);
      await session.command('STARTTLS', 'STARTTLS', 220);
      await session.upgrade();
      await session.command('EHLO bench.example.com', 'EHLO after TLS', 250);
      const plain = Buffer.from(`\0${options.user}\0${options.password}`).toString('base64');
      await session.command(`AUTH PLAIN ${plain}`, 'AUTH', 235);
      return session;
    } catch (error) {
      session.destroy();
      throw error;
    }
  }

  /**
   * Send one message; resolves with the milliseconds from writing the final `.` to the
   * server's 250 (`accept`) and from the call — the moment the client was ready for a
   * new transaction — to that 250 (`transaction`: includes MAIL-time throttling such as
   * Postfix's in_flow_delay). Rejects with SmtpReplyError on a refusal.
   * `pipelineNext` sends the next message's MAIL/RCPT/DATA in the same write as this
   * one's final dot (RFC 2920 allows it): half the writes and reads per message. The
   * caller must then send another message on this session.
   */
  async send(
    from: string,
    to: string,
    message: [Buffer, Buffer],
    pipelineNext = false,
  ): Promise<{ accept: number; transaction: number }> {
    const began = performance.now();
    const envelope = `MAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`;
    if (!this.envelopeSent) this.socket.write(envelope);
    this.envelopeSent = false;
    const [mail, rcpt, data] = await Promise.all([this.next(), this.next(), this.next()]);
    if (mail.code !== 250) throw new SmtpReplyError('MAIL', mail);
    if (rcpt.code !== 250) throw new SmtpReplyError('RCPT', rcpt);
    if (data.code !== 354) throw new SmtpReplyError('DATA', data);
    this.socket.cork();
    this.socket.write(message[0]);
    this.socket.write(message[1]);
    if (pipelineNext) this.socket.write(envelope);
    this.socket.uncork();
    this.envelopeSent = pipelineNext;
    const sentAt = performance.now();
    const reply = await this.next();
    const done = performance.now();
    if (reply.code !== 250) throw new SmtpReplyError('end of DATA', reply);
    return { accept: done - sentAt, transaction: done - began };
  }

  /** QUIT politely (wait for 221, briefly), then close. */
  async quit(): Promise<void> {
    try {
      this.socket.write('QUIT\r\n');
      this.socket.setTimeout(2000);
      await this.next();
    } catch {
      // the server may close first
    }
    this.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.setTimeout(this.timeoutMs, () => {
      this.fail(new Error(`no reply within ${this.timeoutMs} ms`));
      socket.destroy();
    });
    socket.on('data', (chunk: string) => this.parser.feed(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private async upgrade(): Promise<void> {
    const plain = this.socket as Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.removeAllListeners('timeout');
    plain.setTimeout(0);
    plain.on('error', () => {});
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  private async command(line: string, stage: string, code: number): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.expect(stage, code);
  }

  private async expect(stage: string, code: number): Promise<Reply> {
    const reply = await this.next();
    if (reply.code !== code) throw new SmtpReplyError(stage, reply);
    return reply;
  }

  /**
   * The next reply in order. The timeout is the socket's idle timeout (re-armed by every
   * byte, cheaper than a timer per reply): silence for `timeoutMs` fails the session.
   */
  private next(): Promise<Reply> {
    const early = this.early.shift();
    if (early) return Promise.resolve(early);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }
}
