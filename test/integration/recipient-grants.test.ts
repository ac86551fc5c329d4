import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';

/** `--allow-to` (CONTRACT §CLI, §Containment): a stolen key mails only the granted recipients. */
describe('recipient grants (--allow-to)', () => {
  let relay: InProcessRelay;
  let smtpPort: number;
  let secret: string;
  let openSecret: string;
  const clients: RawSmtpClient[] = [];

  const post = (body: Record<string, unknown>, bearer = secret) =>
    fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'app@a.test', subject: 's', text: 't', ...body }),
    });
  const queued = () => relay.relay.services.store.listIds(0, 1000);

  before(async () => {
    relay = await startInProcessRelay(
      {},
      { role: 'intake', keyPrefix: 'allow-to', smtp: { hostname: 'relay.test' } },
    );
    smtpPort = relay.started.smtp?.submissionPort ?? 0;
    const { credentials } = relay.relay.services;
    secret = (
      await credentials.create({
        name: 'app',
        allowFrom: ['*@a.test'],
        allowTo: ['ops@b.test', '*@*.c.test'],
      })
    ).secret;
    openSecret = (await credentials.create({ name: 'open', allowFrom: ['*@a.test'] })).secret;
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  after(async () => {
    await relay.close();
  });

  it('shows the patterns on the credential', async () => {
    const credential = await relay.relay.services.credentials.get('app');
    assert.deepEqual(credential?.allowTo, ['ops@b.test', '*@*.c.test']);
    assert.deepEqual((await relay.relay.services.credentials.get('open'))?.allowTo, []);
  });

  it('refuses a bad pattern at create', async () => {
    await assert.rejects(
      relay.relay.services.credentials.create({
        name: 'bad',
        allowFrom: ['*@a.test'],
        allowTo: ['nobody'],
      }),
      { code: 'invalid_allow_to' },
    );
  });

  it('HTTP: 403 recipient_not_allowed when any of to, cc or bcc is outside the grant', async () => {
    const before = (await queued()).length;
    for (const extra of [
      { to: 'eve@evil.test' },
      { to: 'ops@b.test', cc: 'eve@evil.test' },
      { to: 'ops@b.test', bcc: ['x@deep.c.test', 'eve@c.test'] },
      { to: 'ops@sub.b.test' },
    ]) {
      const response = await post(extra);
      assert.equal(response.status, 403, JSON.stringify(extra));
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'recipient_not_allowed');
    }
    assert.equal((await queued()).length, before, 'nothing queued');
    const ok = await post({ to: 'OPS@b.test', cc: 'x@deep.c.test', bcc: 'y@z.c.test' });
    assert.equal(ok.status, 202);
    assert.equal((await post({ to: 'anyone@evil.test' }, openSecret)).status, 202);
  });

  it('SMTP: 550 5.7.1 for the RCPT outside the grant; the others stay accepted', async () => {
    const before = (await queued()).length;
    const client = await RawSmtpClient.connect(smtpPort);
    clients.push(client);
    await client.command('EHLO client.test');
    assert.match(await client.authPlain('app', secret), /^235 /);
    assert.match(await client.command('MAIL FROM:<app@a.test>'), /^250 /);
    assert.match(await client.command('RCPT TO:<ops@b.test>'), /^250 /);
    assert.match(await client.command('RCPT TO:<eve@evil.test>'), /^550 5\.7\.1 /);
    assert.match(await client.command('RCPT TO:<x@deep.c.test>'), /^250 /);
    assert.match(await client.command('DATA'), /^354 /);
    const reply = await client.command(
      'From: app@a.test\r\nTo: ops@b.test\r\nSubject: s\r\n\r\nhello\r\n.',
    );
    assert.match(reply, /^250 2\.0\.0 Ok: queued as /);
    const id = reply.split(' ').at(-1) ?? '';
    const view = await relay.relay.services.store.view(id);
    assert.deepEqual(
      view?.recipients.map((r) => r.address),
      ['ops@b.test', 'x@deep.c.test'],
    );
    assert.equal((await queued()).length, before + 1);
  });
});
