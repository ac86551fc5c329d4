import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Errors, ServerClient } from 'postmark';
import { Resend } from 'resend';
import type { Services } from '../../src/runtime/services.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { silentLogger } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

/**
 * Nothing is dropped (CONTRACT): through a dialect too, an outage is a temporary error in
 * the dialect's own words — never its success answer.
 */
describe('compatible APIs while Redis is down or not durable', () => {
  let server: TestRedis;
  let services: Services;
  let intake: InProcessRelay;
  let resend: Resend;
  let postmark: ServerClient;

  const resendEmail = { from: 'orders@example.com', to: 'a@example.net', subject: 'o', text: 'x' };
  const postmarkEmail = {
    From: 'orders@example.com',
    To: 'a@example.net',
    Subject: 'o',
    TextBody: 'x',
  };

  async function postmarkError(): Promise<Errors.PostmarkError> {
    try {
      await postmark.sendEmail(postmarkEmail);
    } catch (error) {
      assert.ok(error instanceof Errors.PostmarkError);
      return error;
    }
    assert.fail('sendEmail was expected to throw');
  }

  before(async () => {
    server = await startTestRedis();
    intake = await startInProcessRelay(
      {},
      { role: 'intake', keyPrefix: 'dialects-outage', logger: silentLogger },
      { redis: server },
    );
    ({ services } = intake.relay);
    const { secret } = await services.credentials.create({
      name: 'shop',
      allowFrom: ['*@example.com'],
    });
    resend = new Resend(secret, { baseUrl: intake.baseUrl });
    postmark = new ServerClient(secret, {
      useHttps: false,
      requestHost: new URL(intake.baseUrl).host,
    });
  });

  after(async () => {
    await intake?.close();
    await server?.cleanup();
  });

  it('durability not met: Resend application_error 503, Postmark ServiceUnavailablerError; nothing queued', async () => {
    assert.equal((await resend.emails.send(resendEmail)).error, null);
    await services.redis.config('SET', 'appendfsync', 'everysec');
    await services.durability.refresh();
    try {
      const before = (await services.queue.counts()).waiting;
      const refused = await resend.emails.send(resendEmail);
      assert.equal(refused.data, null);
      assert.deepEqual(
        { name: refused.error?.name, statusCode: refused.error?.statusCode },
        { name: 'application_error', statusCode: 503 },
      );
      const batch = await resend.batch.send([resendEmail, resendEmail]);
      assert.equal(batch.error?.statusCode, 503);
      const error = await postmarkError();
      assert.ok(error instanceof Errors.ServiceUnavailablerError);
      assert.equal(error.statusCode, 503);
      const results = await postmark.sendEmailBatch([postmarkEmail]);
      assert.equal(results[0]?.ErrorCode, 503);
      assert.equal(results[0]?.MessageID, undefined);
      assert.equal((await services.queue.counts()).waiting, before, 'nothing queued');
    } finally {
      await services.redis.config('SET', 'appendfsync', 'always');
      await services.durability.refresh();
    }
    assert.equal((await resend.emails.send(resendEmail)).error, null);
  });

  it('Redis down: both answer 503 in their own shape', async () => {
    await server.stop();
    const refused = await resend.emails.send(resendEmail);
    assert.equal(refused.data, null);
    assert.equal(refused.error?.statusCode, 503);
    assert.equal(refused.error?.name, 'application_error');
    const error = await postmarkError();
    assert.ok(error instanceof Errors.ServiceUnavailablerError);
  });
});
