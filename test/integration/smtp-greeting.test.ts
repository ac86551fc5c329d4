import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { type SmtpIntakeHarness, startSmtpIntake } from '../support/smtp-intake.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
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
      const client = await RawSmtpClient.connect(h.submissionPort);
      client.close();
      assert.match(client.greeting, /^220 relay\.test ESMTP/);
      times.push(client.greetingMs);
    }
    console.log(`# connect → 220: ${times.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    assert.ok(median(times) < 50, `median ${median(times).toFixed(1)} ms`);
  });

  it('still refuses connections beyond maxClients, and frees the slot on close', async () => {
    const held = [];
    for (let n = 0; n < 3; n++) held.push(await RawSmtpClient.connect(h.submissionPort));
    for (const client of held) assert.match(client.greeting, /^220 /);
    const refused = await RawSmtpClient.connect(h.submissionPort);
    assert.match(refused.greeting, /^421 relay\.test Too many connected clients/);
    await refused.closed();

    const first = held.shift() as RawSmtpClient;
    first.close();
    // The server notices the close asynchronously: poll until a new client is greeted.
    const deadline = Date.now() + 5000;
    let reply = '';
    while (Date.now() < deadline) {
      const attempt = await RawSmtpClient.connect(h.submissionPort);
      attempt.close();
      reply = attempt.greeting;
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
    const clients: RawSmtpClient[] = [];
    const connect = async (localAddress: string) => {
      const client = await RawSmtpClient.connect(h.submissionPort, { localAddress });
      clients.push(client);
      return client.greeting;
    };
    try {
      for (let n = 0; n < 50; n++) {
        assert.match(await connect('127.0.4.1'), /^220 /, `connection ${n + 1}`);
      }
      assert.match(await connect('127.0.4.1'), /^421 4\.7\.0 /);
      // Another address is unaffected.
      assert.match(await connect('127.0.4.2'), /^220 /);
    } finally {
      for (const client of clients) client.close();
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
    const client = await RawSmtpClient.connect(h.submissionPort);
    client.close();
    assert.match(client.greeting, /^220 relay\.test ESMTP/);
    // Node timers may fire up to 1 ms early (millisecond rounding).
    const ms = client.greetingMs;
    assert.ok(ms >= DELAY_MS - 1, `greeted after ${ms.toFixed(1)} ms`);
  });

  it('refuses a client that talks before the greeting, and closes', async () => {
    const client = await RawSmtpClient.connect(h.submissionPort, {
      talkFirst: 'EHLO early.test\r\n',
    });
    assert.match(client.greeting, /^421 .*You talk too soon/);
    await client.closed();
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
