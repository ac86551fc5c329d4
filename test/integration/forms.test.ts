import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Challenge, solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { createLogger } from '../../src/observability/logger.js';
import { Staging } from '../../src/queue/staging.js';
import type { Services } from '../../src/runtime/services.js';
import type { Form } from '../../src/security/forms/form-store.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { createLogSink } from '../support/log-sink.js';
import { metricSample } from '../support/metrics-text.js';
import type { TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait-until.js';

const ORIGIN = 'https://www.example.com';

describe('lead forms: POST /v1/forms/:id', () => {
  const logs = createLogSink();
  let upstream: FakeUpstream;
  let relay: InProcessRelay;
  let services: Services;
  let contact: Form;
  let plain: Form;
  let restarted: TestRedis | undefined;

  const post = (form: Form, body: string | FormData, headers: Record<string, string> = {}) =>
    fetch(`${relay.baseUrl}/v1/forms/${form.id}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        origin: ORIGIN,
        ...(typeof body === 'string'
          ? { 'content-type': 'application/x-www-form-urlencoded' }
          : {}),
        ...headers,
      },
      body,
    });
  const delivered = (token: string) =>
    upstream.received.filter((message) => message.raw.toString('latin1').includes(token));

  before(async () => {
    upstream = await startFakeUpstream({ mode: 'plain' });
    relay = await startInProcessRelay(
      { POSTWARDEN_UPSTREAM_URL: upstream.url, POSTWARDEN_FORMS_FROM: 'leads@relay.example' },
      { keyPrefix: 'forms', logger: createLogger('info', logs.stream) },
    );
    ({ services } = relay.relay);
    contact = await services.forms.create({
      name: 'contact',
      to: ['sales@example.com'],
      origins: [ORIGIN],
      redirect: 'https://www.example.com/thanks',
    });
    plain = await services.forms.create({
      name: 'plain',
      to: ['info@example.com'],
      origins: [ORIGIN],
    });
  });

  after(async () => {
    await relay?.close();
    // The relay's close cleans up the Redis it started, not the restarted one.
    await restarted?.cleanup();
    await upstream?.close();
  });

  it('a urlencoded post from an allowed origin: 303 to the redirect, the lead at its fixed recipient with Reply-To', async () => {
    const response = await post(contact, 'name=Ada&email=ada%40example.org&message=token-one');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), 'https://www.example.com/thanks');
    assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
    await waitUntil(() => delivered('token-one').length === 1, 10_000, 'the lead delivered');
    const [lead] = delivered('token-one');
    assert.deepEqual(lead?.to, ['sales@example.com']);
    assert.equal(lead?.from, 'leads@relay.example');
    assert.match(lead?.head ?? '', /^Reply-To: ada@example\.org\r$/im);
    assert.equal(lead?.subject, 'New submission: contact');
  });

  it('JSON gets 202 {id, status: queued}; the message is owned by form:NAME', async () => {
    const response = await post(contact, JSON.stringify({ message: 'token-json' }), {
      'content-type': 'application/json',
    });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { id: string; status: string };
    assert.equal(body.status, 'queued');
    const record = await services.store.get(body.id);
    assert.equal(record?.credential, 'form:contact');
    assert.match(record?.fromHeader ?? '', /contact/);
    // The form's name is in From:, so the admin's sender search finds its leads.
    const found = await relay.relay.operator.search({ sender: 'contact', page: 1 });
    assert.ok(found.rows.some((row) => row.id === body.id));
    const other = await relay.relay.operator.search({ sender: 'plain', page: 1 });
    assert.ok(!other.rows.some((row) => row.id === body.id));
  });

  it('without --redirect a browser gets a thank-you page (200)', async () => {
    const response = await post(plain, 'message=token-page', { accept: 'text/html' });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Thank you/);
  });

  it('refuses an origin not on the list (Origin, or Referer without one): 403 origin_not_allowed, nothing queued', async () => {
    const waiting = (await services.queue.counts()).waiting;
    const attempts: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: '', referer: 'https://evil.example/page' },
    ];
    for (const headers of attempts) {
      const response = await post(contact, 'message=token-evil', headers);
      assert.equal(response.status, 403);
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'origin_not_allowed',
      );
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    }
    const viaReferer = await post(contact, 'message=token-referer', {
      origin: '',
      referer: `${ORIGIN}/contact.html`,
    });
    assert.equal(viaReferer.status, 303);
    assert.equal(delivered('token-evil').length, 0);
    assert.ok((await services.queue.counts()).waiting <= waiting + 1);
  });

  it('answers preflights with Access-Control-Allow-Origin for the form origins only', async () => {
    const ask = (origin: string) =>
      fetch(`${relay.baseUrl}/v1/forms/${contact.id}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const allowed = await ask(ORIGIN);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ORIGIN);
    const refused = await ask('https://evil.example');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  it('404 form_not_found for an unknown or removed id', async () => {
    const gone = await services.forms.create({
      name: 'gone',
      to: ['a@example.com'],
      origins: [ORIGIN],
    });
    await services.forms.remove('gone');
    for (const id of [gone.id, 'f_AAAAAAAAAAAAAAAA', 'nonsense']) {
      const response = await post({ ...gone, id }, 'message=x');
      assert.equal(response.status, 404);
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        'form_not_found',
      );
    }
  });

  it('fields named to/cc/bcc/from/subject/_next, CRLF in names and values and 5,000 fields change no recipient, sender, subject or header', async () => {
    const smuggled = new URLSearchParams();
    for (const name of [
      'to',
      '_to',
      'cc',
      'bcc',
      'from',
      'subject',
      '_next',
      'reply-to',
      'sender',
    ]) {
      smuggled.append(name, 'victim@evil.example');
    }
    smuggled.append('email', 'ada@example.org\r\nBcc: victim@evil.example');
    smuggled.append('X-Injected: yes\r\nBcc', 'victim@evil.example');
    smuggled.append('message', 'token-smuggle\r\nBcc: victim@evil.example\r\n\r\nbody');
    for (let i = 0; i < 5000; i++) smuggled.append(`f${i}`, '1');
    const response = await post(contact, smuggled.toString());
    assert.equal(response.status, 303);
    await waitUntil(() => delivered('token-smuggle').length === 1, 10_000, 'the smuggling lead');
    const [lead] = delivered('token-smuggle');
    assert.deepEqual(lead?.to, ['sales@example.com']);
    assert.equal(lead?.from, 'leads@relay.example');
    assert.equal(lead?.subject, 'New submission: contact');
    assert.doesNotMatch(lead?.head ?? '', /evil|X-Injected|^Bcc|^Reply-To/im);
    assert.equal(upstream.deliveriesTo('victim@evil.example'), 0);
    assert.equal(
      (
        await post(contact, JSON.stringify({ to: ['victim@evil.example'], subject: { a: 1 } }), {
          'content-type': 'application/json',
        })
      ).status,
      202,
    );
  });

  it('multipart: a file becomes an attachment; 64 KiB without files and 10 MiB with get 413', async () => {
    const data = new FormData();
    data.append('message', 'token-multipart');
    data.append('cv', new Blob([Buffer.from('%PDF-1.4 token-file')]), 'cv.pdf');
    assert.equal((await post(contact, data)).status, 303);
    await waitUntil(() => delivered('token-multipart').length === 1, 10_000, 'the multipart lead');
    assert.match(
      delivered('token-multipart')[0]?.raw.toString('latin1') ?? '',
      /filename="?cv\.pdf/,
    );

    const fieldsOnly = new FormData();
    fieldsOnly.append('message', 'x'.repeat(65 * 1024));
    assert.equal((await post(contact, fieldsOnly)).status, 413);
    const urlencoded = `message=${'x'.repeat(65 * 1024)}`;
    assert.equal((await post(contact, urlencoded)).status, 413);
    const huge = new FormData();
    huge.append('cv', new Blob([Buffer.alloc(10 * 1024 * 1024 + 1)]), 'big.bin');
    assert.equal((await post(contact, huge)).status, 413);
  });

  it('_gotcha filled: the same answer, quarantined not delivered, released → delivered once', async () => {
    const response = await post(contact, 'message=token-bot&_gotcha=http%3A%2F%2Fspam');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), 'https://www.example.com/thanks');
    const [kept] = (await services.formQuarantine.list()).filter((post) => post.form === 'contact');
    assert.ok(kept, 'the post is in the quarantine');
    assert.deepEqual(kept.recipients, ['sales@example.com']);
    const staging = new Staging(services.redis, services.keys, services.queue);
    const [first, second] = await Promise.all([
      services.formQuarantine.release(kept.id, staging),
      services.formQuarantine.release(kept.id, staging),
    ]);
    assert.equal([first, second].filter((result) => result.released).length, 1, 'released once');
    await waitUntil(() => delivered('token-bot').length === 1, 10_000, 'the released lead');
    assert.equal((await services.formQuarantine.list()).length, 0);
    assert.equal(delivered('token-bot').length, 1);
  });

  it('--rate per client address: 429 rate_limited with Retry-After', async () => {
    const rated = await services.forms.create({
      name: 'rated',
      to: ['rated@example.com'],
      origins: [ORIGIN],
      ratePerMinute: 3,
    });
    const answers: Response[] = [];
    for (let i = 0; i < 4; i++) answers.push(await post(rated, `message=rate-${i}`));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 200, 429],
    );
    const last = answers[3] as Response;
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
  });

  it('--pow: a solved challenge works once, a replay or no solution is 403 challenge_failed', async () => {
    const pow = await services.forms.create({
      name: 'pow',
      to: ['pow@example.com'],
      origins: [ORIGIN],
      pow: true,
    });
    const challenge = (await (
      await fetch(`${relay.baseUrl}/v1/forms/${pow.id}/challenge`, { headers: { origin: ORIGIN } })
    ).json()) as Challenge;
    const solution = await solveChallenge({ challenge, deriveKey });
    assert.ok(solution);
    const altcha = Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
    const body = new URLSearchParams({ message: 'token-pow', altcha }).toString();
    assert.equal((await post(pow, body)).status, 200);
    for (const replay of [body, 'message=no-solution']) {
      const refused = await post(pow, replay);
      assert.equal(refused.status, 403);
      assert.equal(
        ((await refused.json()) as { error: { code: string } }).error.code,
        'challenge_failed',
      );
    }
  });

  it('logs refusals and quarantines by form and code, never a field of the post', () => {
    const events = logs.records.map((record) => record.event);
    assert.ok(events.includes('form_refused'));
    assert.ok(events.includes('form_quarantined'));
    assert.doesNotMatch(logs.lines.join('\n'), /token-|ada@example\.org|victim@evil/);
  });

  it('counts postwarden_form_submissions_total by form and verdict', async () => {
    const text = await relay.relay.metrics.render();
    assert.ok(
      (metricSample(text, 'postwarden_form_submissions_total{form="contact",verdict="accepted"}') ??
        0) >= 3,
    );
    assert.equal(
      metricSample(text, 'postwarden_form_submissions_total{form="contact",verdict="quarantined"}'),
      1,
    );
    assert.ok(
      (metricSample(text, 'postwarden_form_submissions_total{form="contact",verdict="refused"}') ??
        0) >= 2,
    );
  });

  it('Redis stopped: 503 queue_unavailable, never a success; nothing lost once it is back', async () => {
    await relay.redis.stop();
    const refused = await post(contact, 'message=token-down');
    assert.equal(refused.status, 503);
    const bot = await post(contact, 'message=token-down-bot&_gotcha=x');
    assert.equal(bot.status, 503);
    restarted = await relay.redis.restart();
    await waitUntil(
      async () => (await post(contact, 'message=token-back')).status === 303,
      15_000,
      'accepting again',
      100,
    );
    await waitUntil(
      () => delivered('token-back').length >= 1,
      15_000,
      'delivery after the restart',
    );
    assert.equal(delivered('token-down').length, 0, 'a refused lead was never queued');
  });
});
