import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { FILES_BODY_LIMIT } from '../../src/intake/forms/fields.js';
import { JSON_BODY_WEIGHT } from '../../src/intake/http/inflight-hook.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { metricSample } from '../support/metrics-text.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { waitUntil } from '../support/wait-until.js';

/** A small budget: 4 MiB across every SMTP and HTTP client of the relay. */
const BUDGET = 4 * 1024 * 1024;
const MB = 1024 * 1024;
const QUEUED = /^250 2\.0\.0 Ok: queued as ([0-9a-z]{21})$/;
const BUSY = /^452 4\.3\.1 /;
const LINE = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij\r\n';

/** A message of about `bytes`, From: granted, as DATA (CRLF lines, final dot). */
function data(bytes: number, subject = 'budget'): Buffer {
  const head = `From: Shop <orders@example.com>\r\nTo: a@example.net\r\nSubject: ${subject}\r\n\r\n`;
  const lines = LINE.repeat(Math.ceil(bytes / LINE.length));
  return Buffer.from(`${head}${lines}.\r\n`, 'latin1');
}

describe('memory budget POSTWARDEN_MAX_INFLIGHT_BYTES', () => {
  let relay: InProcessRelay;
  let secret: string;
  let smtpPort: number;

  before(async () => {
    relay = await startInProcessRelay({ POSTWARDEN_MAX_INFLIGHT_BYTES: String(BUDGET) });
    smtpPort = relay.started.smtp?.submissionPort ?? 0;
    const created = await relay.relay.services.credentials.create({
      name: 'shop',
      allowFrom: ['*@example.com'],
    });
    secret = created.secret;
  });

  after(async () => {
    await relay.close();
  });

  const metrics = async () => (await fetch(`${relay.baseUrl}/metrics`)).text();
  const inflight = async () => metricSample(await metrics(), 'postwarden_inflight_bytes') ?? -1;
  const refusals = async (protocol: string) =>
    metricSample(await metrics(), `postwarden_inflight_refusals_total{protocol="${protocol}"}`) ??
    -1;
  const messageCount = async () => (await relay.relay.services.store.listIds(0, 10_000)).length;
  const budgetIsFree = () => waitUntil(async () => (await inflight()) === 0, 10_000, 'budget 0');

  /** An authenticated session with MAIL FROM (optionally SIZE=) and one RCPT done. */
  async function transaction(size?: number): Promise<{ client: RawSmtpClient; mail: string }> {
    const client = await RawSmtpClient.connect(smtpPort);
    await client.command('EHLO client.test');
    assert.match(await client.authPlain('shop', secret), /^235 /);
    const mail = await client.command(
      `MAIL FROM:<orders@example.com>${size === undefined ? '' : ` SIZE=${size}`}`,
    );
    if (mail.startsWith('250')) {
      assert.match(await client.command('RCPT TO:<a@example.net>'), /^250 /);
    }
    return { client, mail };
  }

  async function sendData(client: RawSmtpClient, message: Buffer): Promise<string> {
    assert.match(await client.command('DATA'), /^354 /);
    return client.send(message, 60_000);
  }

  async function waitDelivered(id: string): Promise<void> {
    await waitUntil(
      async () => (await relay.relay.services.store.view(id))?.status === 'delivered',
      30_000,
      `message ${id} delivered`,
    );
  }

  /** POST /v1/messages through node:http; `chunked` sends without Content-Length. */
  function postMessage(
    text: string,
    chunked = false,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    const body = JSON.stringify({
      from: 'orders@example.com',
      to: 'a@example.net',
      subject: 'http budget',
      text,
    });
    return new Promise((resolve, reject) => {
      const request = http.request(`${relay.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/json',
          ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }),
        },
      });
      request.on('response', (response) => {
        let answer = '';
        response.setEncoding('utf8');
        response.on('data', (piece: string) => {
          answer += piece;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: answer }),
        );
      });
      // A server that refuses early may close while the body is still being written.
      request.on('error', reject);
      if (chunked) {
        for (let at = 0; at < body.length; at += 256 * 1024)
          request.write(body.slice(at, at + 256 * 1024));
        request.end();
      } else request.end(body);
    });
  }

  it('refuses a declared SIZE that does not fit at MAIL FROM with 452 4.3.1, nothing queued', async () => {
    const before = await messageCount();
    const refusedBefore = await refusals('smtp');
    const { client, mail } = await transaction(BUDGET + 1);
    client.close();
    assert.match(mail, BUSY);
    assert.equal(await refusals('smtp'), refusedBefore + 1);
    assert.equal(await messageCount(), before);
    await budgetIsFree();
  });

  it('refuses an undeclared message whose bytes pass the budget during DATA, whole, nothing queued', async () => {
    const before = await messageCount();
    const { client } = await transaction();
    const reply = await sendData(client, data(BUDGET + MB));
    client.close();
    assert.match(reply, BUSY);
    assert.equal(await messageCount(), before);
    await budgetIsFree();
  });

  it('holds a declared SIZE for its transaction: others are refused until it is done, then accepted', async () => {
    const first = await transaction(3 * MB);
    assert.match(first.mail, /^250 /);
    assert.equal(await inflight(), 3 * MB, 'the declared size is reserved at MAIL FROM');

    // SMTP and HTTP share the one budget: 2 MB more fits in neither.
    const second = await transaction(2 * MB);
    assert.match(second.mail, BUSY);
    const busy = await postMessage('x'.repeat(2 * MB));
    assert.equal(busy.status, 503);
    assert.equal(JSON.parse(busy.body).error.code, 'server_busy');
    assert.equal(busy.headers['retry-after'], '5');
    const chunked = await postMessage('y'.repeat(2 * MB), true);
    assert.equal(chunked.status, 503);
    assert.equal(JSON.parse(chunked.body).error.code, 'server_busy');
    assert.ok(chunked.headers['retry-after']);

    const accepted = QUEUED.exec(await sendData(first.client, data(3 * MB - 4096)))?.[1];
    first.client.close();
    assert.ok(accepted, 'the reserved message is accepted');
    await budgetIsFree();

    // With the room back, the refused ones go through.
    const retried = await transaction(2 * MB);
    assert.match(retried.mail, /^250 /);
    const again = QUEUED.exec(await sendData(retried.client, data(2 * MB - 4096)))?.[1];
    retried.client.close();
    second.client.close();
    assert.ok(again);
    const posted = await postMessage('x'.repeat(2 * MB));
    assert.equal(posted.status, 202, posted.body);
    const postedId = (JSON.parse(posted.body) as { id: string }).id;
    await budgetIsFree();
    const chunkedOk = await postMessage('y'.repeat(MB), true);
    assert.equal(chunkedOk.status, 202, chunkedOk.body);

    // Everything that got 250/202 is in Redis and delivered.
    for (const id of [accepted, again, postedId]) await waitDelivered(id);
    await budgetIsFree();
  });

  it('refuses DATA itself with 452 4.3.1 when the budget has no room for a first byte', async () => {
    const holder = await transaction(BUDGET - 1024);
    assert.match(holder.mail, /^250 /);
    const { client, mail } = await transaction();
    assert.match(mail, /^250 /, 'an undeclared size passes MAIL FROM');
    assert.match(await client.command('DATA'), BUSY);
    // The admin page is not counted: the operator can still act on a full relay.
    const admin = await fetch(`${relay.baseUrl}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `password=${'p'.repeat(2000)}`,
    });
    assert.ok(admin.status < 500, `admin login answered ${admin.status}`);
    client.close();
    holder.client.close();
    await budgetIsFree();
  });

  it('gives the budget back when a client disconnects mid-DATA', async () => {
    const before = await messageCount();
    const clients = await Promise.all([transaction(), transaction()]);
    for (const { client } of clients) {
      assert.match(await client.command('DATA'), /^354 /);
      client.write(data(MB + MB / 2).subarray(0, MB + MB / 2 - 1000)); // no final dot
    }
    // The fault fired: the bytes are held while they arrive.
    await waitUntil(async () => (await inflight()) >= 2 * MB, 10_000, 'bytes reserved');
    for (const { client } of clients) client.close();
    await budgetIsFree();
    assert.equal(await messageCount(), before);
  });

  it('gives the budget back when an HTTP client goes away mid-body', async () => {
    const request = http.request(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
        'content-length': String(3 * MB),
      },
    });
    request.on('error', () => {});
    request.write(`{"from":"orders@example.com","to":"a@example.net","subject":"s","text":"`);
    // A JSON body is reserved at what handling it holds, never more than the whole budget.
    const reserved = Math.min(3 * MB * JSON_BODY_WEIGHT, BUDGET);
    await waitUntil(async () => (await inflight()) === reserved, 10_000, 'Content-Length reserved');
    request.destroy();
    await budgetIsFree();
  });

  /** Start a POST whose body never ends; the request, to destroy once inflight was read. */
  function startUpload(url: string, headers: http.OutgoingHttpHeaders, first: string) {
    const request = http.request(`${relay.baseUrl}${url}`, { method: 'POST', headers });
    request.on('error', () => {});
    request.write(first);
    return request;
  }

  it('reserves a JSON body at JSON_BODY_WEIGHT times its length (text, parse, decode and MIME)', async () => {
    const declared = 256 * 1024;
    const request = startUpload(
      '/v1/messages',
      {
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
        'content-length': String(declared),
      },
      '{"from":"orders@example.com","to":"a@example.net","subject":"s","text":"',
    );
    await waitUntil(
      async () => (await inflight()) === declared * JSON_BODY_WEIGHT,
      10_000,
      'the weighted reservation',
    );
    request.destroy();
    await budgetIsFree();
  });

  it('reserves a multipart form post whole before its plugin reads it: declared past the fields limit, or chunked', async () => {
    const boundary = 'budgetboundary';
    const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\ncontent-type: text/plain\r\n\r\n`;
    const type = `multipart/form-data; boundary=${boundary}`;
    const origin = 'https://www.example.com';
    const form = await relay.relay.services.forms.create({
      name: 'budget',
      to: ['sales@example.com'],
      origins: [origin],
    });
    const url = `/v1/forms/${form.id}`;
    // With files a form body may reach FILES_BODY_LIMIT, past the route's 64 KiB bodyLimit.
    const declared = MB;
    const withLength = startUpload(
      url,
      { origin, 'content-type': type, 'content-length': String(declared) },
      head,
    );
    await waitUntil(async () => (await inflight()) === declared, 10_000, 'the declared form body');
    withLength.destroy();
    await budgetIsFree();
    // Without a length it is reserved at the route's multipart limit (capped at the budget).
    const chunked = startUpload(url, { origin, 'content-type': type }, head);
    await waitUntil(
      async () => (await inflight()) === Math.min(FILES_BODY_LIMIT, BUDGET),
      10_000,
      'the chunked form body at its limit',
    );
    chunked.destroy();
    await budgetIsFree();
  });
});
