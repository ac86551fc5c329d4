import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Services } from '../../src/runtime/services.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { silentLogger } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait-until.js';

const MESSAGE = {
  from: 'orders@example.com',
  to: 'a@example.net',
  subject: 'outage',
  text: 'hello',
};

describe('HTTP API while Redis is down or not durable', () => {
  let server: TestRedis;
  let services: Services;
  let intake: InProcessRelay;
  let base: string;
  let secret: string;

  const post = () =>
    fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(MESSAGE),
    });

  before(async () => {
    server = await startTestRedis();
    intake = await startInProcessRelay(
      {},
      { role: 'intake', keyPrefix: 'http-outage', logger: silentLogger },
      { redis: server },
    );
    ({ services } = intake.relay);
    base = intake.baseUrl;
    secret = (await services.credentials.create({ name: 'shop', allowFrom: ['*@example.com'] }))
      .secret;
  });

  after(async () => {
    await intake?.close();
    await server?.cleanup();
  });

  it('503 queue_unavailable and /readyz 503 while durability is not met, 202 again once it is', async () => {
    assert.equal((await post()).status, 202);
    await services.redis.config('SET', 'appendfsync', 'everysec');
    await services.durability.refresh();
    const before = (await services.queue.counts()).waiting;
    const refused = await post();
    assert.equal(refused.status, 503);
    assert.deepEqual(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'queue_unavailable',
    );
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { status: string; reason: string };
    assert.equal(body.status, 'unavailable');
    assert.match(body.reason, /appendfsync/);
    assert.equal((await services.queue.counts()).waiting, before, 'nothing queued');

    await services.redis.config('SET', 'appendfsync', 'always');
    await services.durability.refresh();
    assert.equal((await post()).status, 202);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it('503 within 5 s while Redis is down, never 202; acceptance resumes after a restart', async () => {
    await server.stop();
    const started = Date.now();
    const refused = await post();
    assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
    assert.equal(refused.status, 503);
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'queue_unavailable',
    );
    const lookup = await fetch(`${base}/v1/messages/0000000000000000000zz`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(lookup.status, 503);

    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { status: string }).status, 'unavailable');
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'the process still lives');

    server = await server.restart();
    let id = '';
    await waitUntil(
      async () => {
        const response = await post();
        if (response.status !== 202) {
          assert.equal(response.status, 503, 'only 503 while reconnecting');
          return false;
        }
        id = ((await response.json()) as { id: string }).id;
        return true;
      },
      15_000,
      'acceptance after the restart',
      100,
    );
    assert.equal((await services.store.get(id))?.status, 'queued');
    assert.equal(await services.queue.hasJob(id), true);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });
});
