import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { type AcceptDeps, acceptSubmission } from '../../src/intake/accept.js';
import type { Submission } from '../../src/message/types.js';
import { MailQueue } from '../../src/queue/mail-queue.js';
import { MessageStore } from '../../src/queue/message-store.js';
import { Staging } from '../../src/queue/staging.js';
import { createRedis, waitForReady } from '../../src/redis/connections.js';
import { DurabilityMonitor } from '../../src/redis/durability.js';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { CredentialRateLimiter } from '../../src/security/rate-limit.js';
import { silentLogger } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { commandsDuring } from '../support/redis-monitor.js';

function submission(overrides: Partial<Submission> = {}): Submission {
  return {
    protocol: 'http',
    envelope: { from: 'orders@example.com', to: ['a@example.net'] },
    raw: Buffer.from(
      'From: orders@example.com\r\nTo: a@example.net\r\nSubject: hi\r\n\r\nbody\r\n',
    ),
    headerSenders: ['orders@example.com'],
    fromHeader: 'orders@example.com',
    subject: 'hi',
    messageIdHeader: '<x@example.com>',
    ...overrides,
  };
}

describe('acceptSubmission (the one door)', () => {
  let server: TestRedis;
  let redis: Redis;
  let deps: AcceptDeps;
  let store: MessageStore;
  let queue: MailQueue;
  let credentials: CredentialStore;

  before(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'producer', 'test');
    await waitForReady(redis, 5000);
    const keys = createKeys('t1');
    const durability = new DurabilityMonitor(redis, 'fsync');
    await durability.refresh();
    credentials = new CredentialStore(redis, keys);
    store = new MessageStore(redis, keys);
    queue = new MailQueue(redis, keys);
    deps = {
      credentials,
      staging: new Staging(redis, keys, queue),
      durability,
      rateLimiter: new CredentialRateLimiter(redis, keys),
      limits: { maxRecipients: 3, maxMessageBytes: 10_000 },
      logger: silentLogger,
    };
  });

  after(async () => {
    await queue.close();
    redis.disconnect();
    await server.cleanup();
  });

  it('queues a granted message and records it as queued with a job', async () => {
    const { credential } = await credentials.create({ name: 'shop', allowFrom: ['*@example.com'] });
    const result = await acceptSubmission(deps, { credential, ip: '127.0.0.1' }, submission());
    assert.equal(result.accepted, true);
    assert.ok(result.accepted);
    assert.equal(await queue.hasJob(result.id), true);
    const view = await store.view(result.id);
    assert.equal(view?.status, 'queued');
    assert.deepEqual(
      view?.recipients.map((r) => r.address),
      ['a@example.net'],
    );
    assert.equal(view?.events[0]?.type, 'queued');
  });

  it('returns the first id for a repeated Idempotency-Key and queues nothing new', async () => {
    const { credential } = await credentials.create({ name: 'idem', allowFrom: ['*@example.com'] });
    const principal = { credential, ip: '127.0.0.1' };
    const first = await acceptSubmission(deps, principal, submission({ idempotencyKey: 'k1' }));
    const before = (await queue.counts()).waiting;
    const second = await acceptSubmission(deps, principal, submission({ idempotencyKey: 'k1' }));
    assert.ok(first.accepted && second.accepted);
    assert.equal(second.id, first.id);
    assert.equal(second.duplicate, true);
    assert.equal((await queue.counts()).waiting, before);
  });

  it('writes the record and body before the delivery job, in one script', async () => {
    const { credential } = await credentials.create({
      name: 'order',
      allowFrom: ['*@example.com'],
    });
    let id = '';
    const commands = await commandsDuring(redis, async () => {
      const result = await acceptSubmission(deps, { credential, ip: '127.0.0.1' }, submission());
      assert.ok(result.accepted);
      id = result.id;
    });
    const bodyWritten = commands.findIndex(([, key]) => key === `t1:msg:${id}:body`);
    const jobListed = commands.findIndex(
      ([name, key]) => name === 'lpush' && key?.includes('bull'),
    );
    assert.ok(bodyWritten >= 0 && jobListed >= 0, JSON.stringify(commands));
    assert.ok(bodyWritten < jobListed, 'a worker must never see a job without its message');
    // Everything from the body to the job ran inside one script: both or neither.
    const between = commands.slice(bodyWritten, jobListed + 1);
    assert.ok(
      between.every(([, , source]) => source === 'lua'),
      JSON.stringify(between),
    );
    const script = commands.slice(0, bodyWritten).findLast(([, , source]) => source !== 'lua');
    assert.equal(script?.[0], 'evalsha', 'the script the client sent');
  });

  it('writes neither a record nor a job for a repeated key', async () => {
    const { credential } = await credentials.create({
      name: 'repeat',
      allowFrom: ['*@example.com'],
    });
    const principal = { credential, ip: '127.0.0.1' };
    const first = await acceptSubmission(deps, principal, submission({ idempotencyKey: 'k-rep' }));
    assert.ok(first.accepted);
    const index = await redis.zcard('t1:messages');
    const commands = await commandsDuring(redis, async () => {
      const repeat = await acceptSubmission(
        deps,
        principal,
        submission({ idempotencyKey: 'k-rep' }),
      );
      assert.ok(repeat.accepted);
      assert.deepEqual([repeat.id, repeat.duplicate], [first.id, true]);
    });
    const writes = commands.filter(([name]) => ['hset', 'lpush', 'set', 'zadd'].includes(name));
    assert.deepEqual(writes, [], 'nothing written for the repeat');
    assert.equal(await redis.zcard('t1:messages'), index);
    assert.equal(await queue.hasJob(first.id), true);
    assert.equal((await store.get(first.id))?.status, 'queued');
  });

  it('checks the credential inside the stage script: one command when nothing changed', async () => {
    await credentials.create({ name: 'steady', allowFrom: ['*@example.com'] });
    const credential = await credentials.get('steady');
    assert.ok(credential);
    const commands = await commandsDuring(redis, async () => {
      const result = await acceptSubmission(deps, { credential, ip: '127.0.0.1' }, submission());
      assert.ok(result.accepted);
    });
    const sent = commands.filter(([, , source]) => source !== 'lua').map(([name]) => name);
    assert.deepEqual(sent, ['evalsha'], 'the stage script only, no read of the credential');
    assert.ok(
      commands.some(
        ([name, key, source]) => source === 'lua' && name === 'get' && key === 't1:creds-version',
      ),
      'the script read the version',
    );
  });

  it('reads the credential again when another one changed since, and then accepts', async () => {
    await credentials.create({ name: 'before', allowFrom: ['*@example.com'] });
    const credential = await credentials.get('before');
    assert.ok(credential);
    // Any change bumps the one version counter: the script no longer trusts the read.
    await credentials.create({ name: 'unrelated', allowFrom: ['*@example.com'] });
    const commands = await commandsDuring(redis, async () => {
      const result = await acceptSubmission(deps, { credential, ip: '127.0.0.1' }, submission());
      assert.ok(result.accepted);
      assert.equal((await store.get(result.id))?.status, 'queued');
    });
    const sent = commands.filter(([, , source]) => source !== 'lua').map(([name]) => name);
    assert.equal(sent.filter((name) => name === 'evalsha').length, 2, JSON.stringify(sent));
    assert.ok(sent.includes('get'), 'the credential was read again between the two');
  });

  it('refuses, writing nothing, a credential rotated after it was read', async () => {
    await credentials.create({ name: 'turned', allowFrom: ['*@example.com'] });
    const credential = await credentials.get('turned');
    assert.ok(credential);
    await credentials.rotate('turned');
    const index = await redis.zcard('t1:messages');
    const result = await acceptSubmission(deps, { credential, ip: '127.0.0.1' }, submission());
    assert.equal(result.accepted, false);
    assert.ok(!result.accepted);
    assert.equal(result.denial.code, 'unauthorized');
    assert.equal(await redis.zcard('t1:messages'), index);
  });

  it('refuses ungranted envelope and header senders, too many recipients and oversize', async () => {
    const { credential } = await credentials.create({
      name: 'narrow',
      allowFrom: ['only@example.com'],
    });
    const principal = { credential, ip: '127.0.0.1' };
    const codes = [];
    for (const input of [
      submission({ envelope: { from: 'other@example.com', to: ['a@example.net'] } }),
      submission({
        envelope: { from: 'only@example.com', to: ['a@example.net'] },
        headerSenders: ['only@example.com', 'ceo@example.com'],
      }),
      submission({
        envelope: { from: 'only@example.com', to: ['a@x.net', 'b@x.net', 'c@x.net', 'd@x.net'] },
        headerSenders: ['only@example.com'],
      }),
      submission({
        envelope: { from: 'only@example.com', to: ['a@x.net'] },
        headerSenders: ['only@example.com'],
        raw: Buffer.alloc(10_001, 97),
      }),
    ]) {
      const result = await acceptSubmission(deps, principal, input);
      assert.equal(result.accepted, false);
      if (!result.accepted) codes.push(result.denial.code);
    }
    assert.deepEqual(codes, [
      'sender_not_allowed',
      'header_sender_not_allowed',
      'too_many_recipients',
      'too_large',
    ]);
  });
});
