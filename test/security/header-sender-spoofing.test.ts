import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { SPOOFED_FROM_VALUES } from '../support/spoofed-from.js';

describe('header senders are read strictly on SMTP and HTTP', () => {
  let relay: InProcessRelay;
  let smtpPort: number;
  let secret: string;
  const clients: RawSmtpClient[] = [];
  const queuedCount = async () => (await relay.relay.services.store.listIds(0, 1000)).length;

  /** One whole transaction as alice; the reply to the end of DATA. */
  async function submit(headers: string): Promise<string> {
    const client = await RawSmtpClient.connect(smtpPort);
    clients.push(client);
    await client.command('EHLO client.test');
    assert.match(await client.authPlain('alice', secret), /^235 /);
    assert.match(await client.command('MAIL FROM:<alice@a.test>'), /^250 /);
    assert.match(await client.command('RCPT TO:<bob@b.test>'), /^250 /);
    assert.match(await client.command('DATA'), /^354 /);
    return client.command(`${headers}To: bob@b.test\r\nSubject: s\r\n\r\nhello\r\n.`);
  }

  const post = (body: Record<string, unknown>) =>
    fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'bob@b.test', subject: 's', text: 't', ...body }),
    });

  before(async () => {
    relay = await startInProcessRelay(
      {},
      { role: 'intake', keyPrefix: 'spoof', smtp: { hostname: 'relay.test' } },
    );
    smtpPort = relay.started.smtp?.submissionPort ?? 0;
    secret = (
      await relay.relay.services.credentials.create({ name: 'alice', allowFrom: ['*@a.test'] })
    ).secret;
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  after(async () => {
    await relay.close();
  });

  for (const value of SPOOFED_FROM_VALUES) {
    it(`SMTP: From: ${value} → 550 5.7.1, nothing queued`, async () => {
      const before = await queuedCount();
      assert.match(await submit(`From: ${value}\r\n`), /^550 5\.7\.1 /);
      assert.equal(await queuedCount(), before);
    });

    it(`HTTP: from ${value} is refused, nothing queued`, async () => {
      const before = await queuedCount();
      const response = await post({ from: value });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'invalid_request');
      assert.equal(await queuedCount(), before);
    });
  }

  for (const field of ['Sender', 'Resent-From', 'Resent-Sender']) {
    it(`SMTP: the same rules hold for ${field}:`, async () => {
      const before = await queuedCount();
      for (const value of SPOOFED_FROM_VALUES) {
        const reply = await submit(`From: alice@a.test\r\n${field}: ${value}\r\n`);
        assert.match(reply, /^550 5\.7\.1 /, `${field}: ${value}`);
      }
      assert.match(
        await submit(`From: alice@a.test\r\n${field}: ceo@bank.test\r\n`),
        /^550 5\.7\.1 /,
        'an ungranted one too',
      );
      assert.equal(await queuedCount(), before);
      assert.match(
        await submit(`From: alice@a.test\r\n${field}: Alice <alice@a.test>\r\n`),
        /^250 /,
      );
    });
  }

  it('SMTP: two From: headers, or two mailboxes in one, are refused', async () => {
    const before = await queuedCount();
    assert.match(await submit('From: alice@a.test\r\nFrom: ceo@bank.test\r\n'), /^550 5\.7\.1 /);
    assert.match(await submit('From: alice@a.test\r\nFrom: alice@a.test\r\n'), /^550 5\.7\.1 /);
    assert.match(await submit('From: alice@a.test, bob@a.test\r\n'), /^550 5\.7\.1 /);
    assert.equal(await queuedCount(), before);
  });

  it('SMTP: a submitted Return-Path is removed; well-formed senders still pass', async () => {
    const reply = await submit('Return-Path: <ceo@bank.test>\r\nFrom: "Alice" <alice@a.test>\r\n');
    assert.match(reply, /^250 2\.0\.0 Ok: queued as /);
    const id = reply.split(' ').at(-1) ?? '';
    const { redis, keys } = relay.relay.services;
    const body = (await redis.getBuffer(keys.body(id)))?.toString('latin1') ?? '';
    assert.match(body, /^From: "Alice" <alice@a.test>\r\n/m);
    assert.doesNotMatch(body, /return-path/i);
  });

  it('HTTP: a granted from with a display name is still accepted', async () => {
    assert.equal((await post({ from: 'Alice <alice@a.test>' })).status, 202);
    assert.equal((await post({ from: '"Alice, A." <alice@a.test>' })).status, 202);
  });
});
