import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Errors, ServerClient } from 'postmark';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * The official `postmark` SDK, unmodified, against a relay built by the composition root:
 * `requestHost` and `useHttps: false` are all an app changes (CONTRACT §Compatible APIs).
 */
describe('Postmark dialect with the official SDK', () => {
  let relay: InProcessRelay;
  let upstream: FakeUpstream;
  let client: ServerClient;
  let host: string;
  let limitedSecret: string;

  const delivered = (subject: string) => upstream.received.filter((m) => m.subject === subject);
  const clientFor = (token: string) =>
    new ServerClient(token, { useHttps: false, requestHost: host });

  /** The error a call threw (it must throw). */
  async function thrown(call: () => Promise<unknown>): Promise<Errors.PostmarkError> {
    try {
      await call();
    } catch (error) {
      assert.ok(error instanceof Errors.PostmarkError, `a PostmarkError, not ${String(error)}`);
      return error;
    }
    assert.fail('the call was expected to throw');
  }

  before(async () => {
    upstream = await startFakeUpstream({ mode: 'plain' });
    relay = await startInProcessRelay({ POSTWARDEN_UPSTREAM_URL: upstream.url });
    const { credentials } = relay.relay.services;
    const { secret } = await credentials.create({ name: 'app', allowFrom: ['*@example.com'] });
    limitedSecret = (
      await credentials.create({
        name: 'limited',
        allowFrom: ['*@example.com'],
        allowTo: ['*@allowed.example'],
      })
    ).secret;
    host = new URL(relay.baseUrl).host;
    client = clientFor(secret);
  });

  after(async () => {
    await relay?.close();
    await upstream?.close();
  });

  it('sends with cc, bcc, reply-to, custom headers and an attachment; bcc only in the envelope', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]);
    const response = await client.sendEmail({
      From: 'Shop <orders@example.com>',
      To: 'alice@example.net, "Doe, Bob" <bob@example.net>',
      Cc: 'carol@example.net',
      Bcc: 'secret-dave@example.net',
      ReplyTo: 'support@example.com',
      Subject: 'postmark full',
      HtmlBody: '<p>Hello</p>',
      TextBody: 'Hello',
      Headers: [{ Name: 'X-Campaign', Value: 'spring' }],
      Attachments: [
        {
          Name: 'pixel.png',
          Content: png.toString('base64'),
          ContentType: 'image/png',
          ContentID: null,
        },
      ],
      Tag: 'receipts',
      Metadata: { order: '4711' },
      MessageStream: 'outbound',
      TrackOpens: true,
    });
    assert.equal(response.ErrorCode, 0);
    assert.equal(response.Message, 'OK');
    assert.equal(response.To, 'alice@example.net, "Doe, Bob" <bob@example.net>');
    assert.match(response.MessageID, /\S/);
    assert.ok(!Number.isNaN(Date.parse(response.SubmittedAt)));
    await waitUntil(() => delivered('postmark full').length === 1, 20_000, 'delivery');
    const [message] = delivered('postmark full');
    assert.ok(message);
    assert.deepEqual([...message.to].sort(), [
      'alice@example.net',
      'bob@example.net',
      'carol@example.net',
      'secret-dave@example.net',
    ]);
    assert.match(message.head, /^To: alice@example\.net, "Doe, Bob" <bob@example\.net>$/im);
    assert.match(message.head, /^Cc: carol@example\.net$/im);
    assert.match(message.head, /^Reply-To: support@example\.com$/im);
    assert.match(message.head, /^X-Campaign: spring$/im);
    const raw = message.raw.toString('latin1');
    assert.doesNotMatch(raw, /secret-dave|^Bcc:/im);
    assert.match(raw, /filename=pixel\.png/);
    assert.ok(raw.includes(png.toString('base64')));
  });

  it('sends a batch and answers per email, errors in place', async () => {
    const results = await client.sendEmailBatch([
      {
        From: 'orders@example.com',
        To: 'k1@example.net',
        Subject: 'postmark batch 1',
        TextBody: '1',
      },
      {
        From: 'orders@example.com',
        To: 'not an address',
        Subject: 'postmark batch bad',
        TextBody: '2',
      },
      {
        From: 'orders@example.com',
        To: 'k3@example.net',
        Subject: 'postmark batch 3',
        HtmlBody: '<i>3</i>',
      },
    ]);
    assert.equal(results.length, 3);
    assert.deepEqual(
      results.map((r) => r.ErrorCode),
      [0, 300, 0],
    );
    assert.equal(results[0]?.To, 'k1@example.net');
    assert.notEqual(results[0]?.MessageID, results[2]?.MessageID);
    await waitUntil(
      () =>
        delivered('postmark batch 1').length === 1 && delivered('postmark batch 3').length === 1,
      20_000,
      'batch delivery',
    );
    assert.equal(delivered('postmark batch bad').length, 0);
  });

  it('maps refusals to the SDK’s own error classes with Postmark’s codes', async () => {
    const email = {
      From: 'orders@example.com',
      To: 'm@example.net',
      Subject: 'postmark refused',
      TextBody: 'x',
    };

    const badToken = await thrown(() => clientFor('not-a-token').sendEmail(email));
    assert.ok(badToken instanceof Errors.InvalidAPIKeyError);
    assert.equal(badToken.code, 10);
    assert.equal(badToken.statusCode, 401);

    // The SDK refuses an empty token itself; without the header at all the answer is the same.
    const missing = await fetch(`http://${host}/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(email),
    });
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), {
      ErrorCode: 10,
      Message: 'Request does not contain a valid Server token.',
    });

    const ungranted = await thrown(() =>
      client.sendEmail({ ...email, From: 'ceo@elsewhere.example' }),
    );
    assert.ok(ungranted instanceof Errors.ApiInputError);
    assert.equal(ungranted.code, 400);
    assert.equal(ungranted.statusCode, 422);
    assert.match(ungranted.message, /not granted/);

    const invalid = await thrown(() => client.sendEmail({ ...email, To: 'bob@@example.net' }));
    assert.ok(invalid instanceof Errors.InvalidEmailRequestError);
    assert.equal(invalid.code, 300);

    const injected = await thrown(() =>
      client.sendEmail({ ...email, Subject: 'x\r\nBcc: victim@example.net' }),
    );
    assert.ok(injected instanceof Errors.InvalidEmailRequestError);

    const noBody = await thrown(() =>
      client.sendEmail({ From: 'orders@example.com', To: 'm@example.net', Subject: 's' }),
    );
    assert.ok(noBody instanceof Errors.InvalidEmailRequestError);

    const outside = await thrown(() =>
      clientFor(limitedSecret).sendEmail({ ...email, To: 'ok@allowed.example, m@example.net' }),
    );
    assert.ok(outside instanceof Errors.InactiveRecipientsError);
    assert.equal(outside.code, 406);
    assert.deepEqual(outside.recipients, ['m@example.net']);

    const reserved = await thrown(() =>
      client.sendEmail({ ...email, Headers: [{ Name: 'From', Value: 'ceo@example.com' }] }),
    );
    assert.ok(reserved instanceof Errors.InvalidEmailRequestError);

    assert.equal(delivered('postmark refused').length, 0);
  });
});
