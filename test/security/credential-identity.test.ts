import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import pino from 'pino';
import { acceptSubmission } from '../../src/intake/accept.js';
import type { Submission } from '../../src/message/types.js';
import { createAcceptDoor } from '../../src/runtime/intake-role.js';
import type { Services } from '../../src/runtime/services.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';

/**
 * A credential is an identity, not a name (CONTRACT §CLI; issue 10's review): after a
 * rotate, or a revoke and a new create of the name, what was authenticated with the old
 * secret queues nothing more, and the new credential sees none of the old one's messages
 * or Idempotency-Keys.
 */
describe('credential identity and secret generation', () => {
  let relay: InProcessRelay;
  let services: Services;
  let smtpPort: number;
  const clients: RawSmtpClient[] = [];
  const queuedCount = async () => (await services.store.listIds(0, 1000)).length;

  async function session(name: string, secret: string): Promise<RawSmtpClient> {
    const client = await RawSmtpClient.connect(smtpPort);
    clients.push(client);
    await client.command('EHLO client.test');
    assert.match(await client.authPlain(name, secret), /^235 /);
    return client;
  }

  async function transaction(client: RawSmtpClient): Promise<string> {
    const mail = await client.command('MAIL FROM:<alice@a.test>');
    if (!mail.startsWith('250')) return mail;
    assert.match(await client.command('RCPT TO:<bob@b.test>'), /^250 /);
    assert.match(await client.command('DATA'), /^354 /);
    return client.command('From: alice@a.test\r\nTo: bob@b.test\r\nSubject: s\r\n\r\nx\r\n.');
  }

  const create = async (name: string) =>
    (await services.credentials.create({ name, allowFrom: ['*@a.test'] })).secret;

  const post = (secret: string, key?: string) =>
    fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify({ from: 'alice@a.test', to: 'bob@b.test', subject: 's', text: 't' }),
    });

  before(async () => {
    relay = await startInProcessRelay(
      {},
      { role: 'intake', keyPrefix: 'identity', smtp: { hostname: 'relay.test' } },
    );
    services = relay.relay.services;
    smtpPort = relay.started.smtp?.submissionPort ?? 0;
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  after(async () => {
    await relay.close();
  });

  it('gives each credential an immutable id: kept by rotate, new after revoke + create', async () => {
    await create('ids');
    const first = await services.credentials.get('ids');
    await services.credentials.rotate('ids');
    const rotated = await services.credentials.get('ids');
    assert.equal(rotated?.id, first?.id);
    assert.equal(rotated?.generation, (first?.generation ?? 0) + 1);
    await services.credentials.revoke('ids');
    await create('ids');
    assert.notEqual((await services.credentials.get('ids'))?.id, first?.id);
  });

  it('SMTP: after a rotate, the session that authenticated before gets 530 5.7.0 at MAIL', async () => {
    const client = await session('alice', await create('alice'));
    assert.match(await transaction(client), /^250 2\.0\.0 Ok: queued as /);
    await services.credentials.rotate('alice');
    const before = await queuedCount();
    assert.match(await transaction(client), /^530 5\.7\.0 /);
    assert.equal(await queuedCount(), before);
  });

  it('SMTP: a rotate during DATA is refused at the end of DATA with 530 5.7.0', async () => {
    const client = await session('during', await create('during'));
    assert.match(await client.command('MAIL FROM:<alice@a.test>'), /^250 /);
    assert.match(await client.command('RCPT TO:<bob@b.test>'), /^250 /);
    assert.match(await client.command('DATA'), /^354 /);
    await services.credentials.rotate('during');
    const before = await queuedCount();
    const reply = await client.command('From: alice@a.test\r\nSubject: s\r\n\r\nx\r\n.');
    assert.match(reply, /^530 5\.7\.0 /);
    assert.equal(await queuedCount(), before);
  });

  it('SMTP: after revoke + create of the same name, the old session queues nothing', async () => {
    const client = await session('again', await create('again'));
    await services.credentials.revoke('again');
    await create('again');
    const before = await queuedCount();
    assert.match(await transaction(client), /^530 5\.7\.0 /);
    assert.equal(await queuedCount(), before);
  });

  it('HTTP: a re-created name sees none of the old messages or Idempotency-Keys', async () => {
    const oldSecret = await create('shop');
    const first = await post(oldSecret, 'order-1');
    assert.equal(first.status, 202);
    const { id: oldId } = (await first.json()) as { id: string };
    await services.credentials.revoke('shop');
    const newSecret = await create('shop');
    const seen = await fetch(`${relay.baseUrl}/v1/messages/${oldId}`, {
      headers: { authorization: `Bearer ${newSecret}` },
    });
    assert.equal(seen.status, 404);
    const before = await queuedCount();
    const repeat = await post(newSecret, 'order-1');
    assert.equal(repeat.status, 202);
    const { id: newId } = (await repeat.json()) as { id: string };
    assert.notEqual(newId, oldId);
    assert.equal(await queuedCount(), before + 1, 'the key is the new credential’s own');
    // The record still names the credential for admin and CLI.
    assert.equal((await services.store.view(newId))?.credential, 'shop');
  });

  it('the accept door refuses a principal authenticated before a rotate', async () => {
    const secret = await create('door');
    const principal = await services.credentials.authenticateBySecret(secret);
    assert.ok(principal);
    await services.credentials.rotate('door');
    const accept = createAcceptDoor(relay.relay.config, services, pino({ level: 'silent' }));
    const submission: Submission = {
      protocol: 'http',
      envelope: { from: 'alice@a.test', to: ['bob@b.test'] },
      raw: Buffer.from('From: alice@a.test\r\nSubject: s\r\n\r\nx\r\n'),
      headerSenders: ['alice@a.test'],
      fromHeader: 'alice@a.test',
      subject: 's',
      messageIdHeader: '<door@a.test>',
    };
    const before = await queuedCount();
    const result = await acceptSubmission(
      accept,
      { credential: principal, ip: '127.0.0.1' },
      submission,
    );
    assert.equal(result.accepted ? 'accepted' : result.denial.code, 'unauthorized');
    assert.equal(await queuedCount(), before);
  });

  it('credentials and records from before ids existed: stable legacy ids, old records owned by none', async () => {
    const { redis, keys, credentials, store } = services;
    const secret = await create('legacy');
    // As an older release wrote them: no id, no generation.
    await redis.hdel(keys.credential('legacy'), 'id', 'generation');
    await redis.incr(keys.credentialsVersion());
    const before = await credentials.get('legacy');
    assert.match(before?.id ?? '', /^legacy:legacy:/);
    assert.equal(before?.generation, 0);
    const response = await post(secret);
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    await redis.hdel(keys.message(id), 'credentialId');
    const seen = await fetch(`${relay.baseUrl}/v1/messages/${id}`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(seen.status, 404, 'a record without an id is owned by no credential id');
    assert.equal((await store.view(id))?.credential, 'legacy', 'admin and CLI still name it');
    const client = await session('legacy', secret);
    await credentials.rotate('legacy');
    assert.equal((await credentials.get('legacy'))?.generation, 1);
    assert.match(await transaction(client), /^530 5\.7\.0 /);
  });
});
