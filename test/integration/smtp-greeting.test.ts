import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { RawSmtpClient } from '../support/smtp-client.js';
import { type SmtpIntakeHarness, startSmtpIntake } from '../support/smtp-intake.js';

/** Connect and read the first reply; `talkFirst` is written as soon as TCP is up. */
function firstReply(
  port: number,
  options: { talkFirst?: string; localAddress?: string } = {},
): Promise<{ reply: string; ms: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
    let connectedAt = 0;
    let text = '';
    socket.setEncoding('latin1');
    socket.once('error', reject);
    socket.once('connect', () => {
      connectedAt = performance.now();
      if (options.talkFirst) socket.write(options.talkFirst);
    });
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n');
      if (end !== -1) {
        socket.removeAllListeners('data');
        resolve({ reply: text.slice(0, end), ms: performance.now() - connectedAt, socket });
      }
    });
    socket.once('close', () =>
      resolve({ reply: text, ms: performance.now() - connectedAt, socket }),
    );
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Resolves once the server closed `socket` (a refusal must not leave it open). */
function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed || socket.readableEnded
    ? Promise.resolve()
    : new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('SMTP greeting: no fixed pause by default', () => {
  let h: SmtpIntakeHarness;
  before(async () => {
    h = await startSmtpIntake({}, { maxClients: 3 });
  });
  after(async () => {
    await h.close();
  });

  it('greets well under smtp-server’s 100 ms early-talker pause', async () => {
    const times: number[] = [];
    for (let n = 0; n < 7; n++) {
      const { reply, ms, socket } = await firstReply(h.submissionPort);
      socket.destroy();
      assert.match(reply, /^220 relay\.test ESMTP/);
      times.push(ms);
    }
    console.log(`# connect → 220: ${times.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    assert.ok(median(times) < 50, `median ${median(times).toFixed(1)} ms`);
  });

  it('still refuses connections beyond maxClients, and frees the slot on close', async () => {
    const held = [];
    for (let n = 0; n < 3; n++) held.push(await RawSmtpClient.connect(h.submissionPort));
    for (const client of held) assert.match(client.greeting, /^220 /);
    const refused = await firstReply(h.submissionPort);
    assert.match(refused.reply, /^421 relay\.test Too many connected clients/);
    await closed(refused.socket);

    const first = held.shift() as RawSmtpClient;
    first.close();
    // The server notices the close asynchronously: poll until a new client is greeted.
    const deadline = Date.now() + 5000;
    let reply = '';
    while (Date.now() < deadline) {
      const attempt = await firstReply(h.submissionPort);
      attempt.socket.destroy();
      reply = attempt.reply;
      if (reply.startsWith('220')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(reply, /^220 relay\.test ESMTP/);
    for (const client of held) client.close();
  });
});

describe('SMTP greeting: per-IP connection limit with immediate greetings', () => {
  let h: SmtpIntakeHarness;
  before(async () => {
    h = await startSmtpIntake();
  });
  after(async () => {
    await h.close();
  });

  it('greets 50 connections from one address and refuses the 51st', async () => {
    const sockets: net.Socket[] = [];
    try {
      for (let n = 0; n < 50; n++) {
        const { reply, socket } = await firstReply(h.submissionPort, {
          localAddress: '127.0.4.1',
        });
        sockets.push(socket);
        assert.match(reply, /^220 /, `connection ${n + 1}`);
      }
      const refused = await firstReply(h.submissionPort, { localAddress: '127.0.4.1' });
      sockets.push(refused.socket);
      assert.match(refused.reply, /^421 4\.7\.0 /);
      // Another address is unaffected.
      const other = await firstReply(h.submissionPort, { localAddress: '127.0.4.2' });
      sockets.push(other.socket);
      assert.match(other.reply, /^220 /);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

describe('SMTP greeting: POSTWARDEN_SMTP_GREETING_DELAY', () => {
  const DELAY_MS = 300;
  let h: SmtpIntakeHarness;
  before(async () => {
    h = await startSmtpIntake({ POSTWARDEN_SMTP_GREETING_DELAY: `${DELAY_MS}ms` });
  });
  after(async () => {
    await h.close();
  });

  it('waits at least the configured delay before greeting', async () => {
    const { reply, ms, socket } = await firstReply(h.submissionPort);
    socket.destroy();
    assert.match(reply, /^220 relay\.test ESMTP/);
    // Node timers may fire up to 1 ms early (millisecond rounding).
    assert.ok(ms >= DELAY_MS - 1, `greeted after ${ms.toFixed(1)} ms`);
  });

  it('refuses a client that talks before the greeting, and closes', async () => {
    const { reply, socket } = await firstReply(h.submissionPort, {
      talkFirst: 'EHLO early.test\r\n',
    });
    assert.match(reply, /^421 .*You talk too soon/);
    await closed(socket);
  });

  it('serves a client that waits for the greeting', async () => {
    const client = await RawSmtpClient.connect(h.submissionPort);
    try {
      assert.match(client.greeting, /^220 /);
      assert.match(await client.command('EHLO patient.test'), /^250-relay\.test/);
    } finally {
      client.close();
    }
  });
});
