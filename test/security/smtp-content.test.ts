import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSmtpClient, replyCode } from '../support/raw-smtp-client.js';
import { type RelayHarness, startRelayHarness } from '../support/relay-harness.js';
import { waitUntil } from '../support/wait-until.js';

// The eight end-of-data look-alikes of SMTP smuggling (SEC Consult, 2023), plus bare CR,
// bare LF and NUL on their own.
const SMUGGLING_ENDINGS: Record<string, string> = {
  'LF.LF': '\n.\n',
  'LF.CRLF': '\n.\r\n',
  'CR.CR': '\r.\r',
  'CR.CRLF': '\r.\r\n',
  'CRLF.LF': '\r\n.\n',
  'CRLF.CR': '\r\n.\r',
  'LF.CR': '\n.\r',
  'CR.LF': '\r.\n',
};

describe('security: what SMTP clients put in a message', { timeout: 120_000 }, () => {
  let harness: RelayHarness;
  let secret: string;
  const counts: Record<string, number> = {};
  const count = (category: string) => {
    counts[category] = (counts[category] ?? 0) + 1;
  };

  before(async () => {
    harness = await startRelayHarness({
      POSTWARDEN_MAX_MESSAGE_BYTES: '200000',
      POSTWARDEN_MAX_RECIPIENTS: '3',
    });
    ({ secret } = await harness.createCredential({
      name: 'shop',
      allowFrom: ['orders@example.com'],
    }));
  });

  after(async () => {
    console.log(`# smtp content cases: ${JSON.stringify(counts)}`);
    await harness?.stop();
  });

  async function session(): Promise<RawSmtpClient> {
    const client = await RawSmtpClient.connect(harness.ports.smtp);
    await client.command('EHLO client.example.com');
    assert.match(await client.startTls(), /^220 /);
    await client.command('EHLO client.example.com');
    assert.match(await client.authPlain('shop', secret), /^235 /);
    return client;
  }

  async function transaction(data: string, options: { from?: string; rcpts?: string[] } = {}) {
    const client = await session();
    const mail = await client.command(`MAIL FROM:<${options.from ?? 'orders@example.com'}>`);
    const rcpts = [];
    for (const rcpt of options.rcpts ?? ['customer@example.net'])
      rcpts.push(await client.command(`RCPT TO:<${rcpt}>`));
    const go = await client.command('DATA');
    const final = replyCode(go) === 354 ? await client.send(data) : go;
    client.close();
    return { mail, rcpts, final };
  }

  const headers = (extra = '') =>
    `From: orders@example.com\r\nTo: customer@example.net\r\nSubject: test\r\n${extra}\r\n`;

  for (const [name, ending] of Object.entries(SMUGGLING_ENDINGS)) {
    it(`refuses smuggling with ${name} and queues nothing`, async () => {
      const smuggled =
        'MAIL FROM:<orders@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nFrom: ceo@bank.example\r\nSubject: smuggled\r\n\r\nwire money\r\n.\r\n';
      const { final } = await transaction(`${headers()}hello${ending}${smuggled}.\r\n`);
      assert.match(final, /^550 5\.6\.0 /, name);
      count('smuggling');
    });
  }

  for (const [name, body] of Object.entries({
    'bare LF': 'a\nb',
    'bare CR': 'a\rb',
    NUL: 'a\0b',
  })) {
    it(`refuses a ${name} in DATA`, async () => {
      const { final } = await transaction(`${headers()}${body}\r\n.\r\n`);
      assert.match(final, /^5\d\d /, name);
      count('bare CR/LF/NUL');
    });
  }

  it('refuses an ungranted envelope sender with 553 5.7.1', async () => {
    const { mail } = await transaction(`${headers()}x\r\n.\r\n`, { from: 'ceo@example.com' });
    assert.match(mail, /^553 5\.7\.1 /);
    count('spoofing');
  });

  for (const [name, extra] of Object.entries({
    'From: of another address': 'From: ceo@example.com\r\n',
    'a second mailbox in From:': 'From: orders@example.com, ceo@bank.example\r\n',
    'Sender:': 'Sender: ceo@bank.example\r\n',
  })) {
    it(`refuses ${name} with 550 5.7.1 after DATA`, async () => {
      const data = extra.startsWith('From:')
        ? `${extra}To: customer@example.net\r\nSubject: spoof\r\n\r\nx\r\n.\r\n`
        : `${headers(extra)}x\r\n.\r\n`;
      const { final } = await transaction(data);
      assert.match(final, /^550 5\.7\.1 /, name);
      count('spoofing');
    });
  }

  it('refuses recipients past the limit with 452 4.5.3', async () => {
    const { rcpts } = await transaction(
      `${headers()}x\r\n.\r\n`.replace('Subject: test', 'Subject: many'),
      {
        rcpts: [
          'a@example.net',
          'b@example.net',
          'c@example.net',
          'd@example.net',
          'e@example.net',
        ],
      },
    );
    assert.deepEqual(rcpts.map(replyCode), [250, 250, 250, 452, 452]);
    assert.match(rcpts[3] ?? '', /^452 4\.5\.3 /);
    count('limits');
  });

  it('refuses a declared oversize message at MAIL FROM with 552 5.3.4', async () => {
    const client = await session();
    const mail = await client.command('MAIL FROM:<orders@example.com> SIZE=900000');
    client.close();
    assert.match(mail, /^552 5\.3\.4 /);
    count('limits');
  });

  it('refuses an undeclared oversize message after DATA with 552 5.3.4', async () => {
    const line = `${'x'.repeat(998)}\r\n`;
    const { final } = await transaction(`${headers()}${line.repeat(300)}.\r\n`);
    assert.match(final, /^552 5\.3\.4 /);
    count('limits');
  });

  it('removes Bcc before queuing and delivers to its address', async () => {
    const { final } = await transaction(
      `${headers('Bcc: hidden@example.net\r\n').replace('Subject: test', 'Subject: bcc-check')}x\r\n.\r\n`,
      { rcpts: ['customer@example.net', 'hidden@example.net'] },
    );
    assert.match(final, /^250 2\.0\.0 Ok: queued as [0-9a-z]+$/);
    await waitUntil(
      () => harness.sink.subjects.has('bcc-check'),
      20_000,
      'the bcc message at the upstream',
    );
    const delivered = harness.sink.received.find((message) => message.subject === 'bcc-check');
    assert.ok(delivered);
    assert.doesNotMatch(delivered.head, /^bcc:/im);
    assert.deepEqual(delivered.to.sort(), ['customer@example.net', 'hidden@example.net']);
    count('bcc');
  });

  it('let nothing refused reach the upstream, and no secret reach logs or Redis', async () => {
    // Only the two legitimate messages arrive; the one with extra recipients went to the
    // three accepted ones only.
    assert.deepEqual(harness.sink.received.map((message) => message.subject).sort(), [
      'bcc-check',
      'many',
    ]);
    const many = harness.sink.received.find((message) => message.subject === 'many');
    assert.deepEqual(many?.to.sort(), ['a@example.net', 'b@example.net', 'c@example.net']);
    assert.deepEqual(await harness.findSecrets([secret]), []);
  });
});
