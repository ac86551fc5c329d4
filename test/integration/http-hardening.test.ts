import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { silentLogger } from '../support/log-sink.js';
import { waitUntil } from '../support/wait-until.js';

interface RawExchange {
  socket: net.Socket;
  /** Everything the server sent so far. */
  received(): string;
  closed: Promise<number>;
}

/** A raw HTTP connection from `localAddress`, recording what comes back and when it closes. */
function connect(port: number, localAddress = '127.0.0.1'): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    const started = Date.now();
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    const closed = new Promise<number>((done) =>
      socket.once('close', () => done(Date.now() - started)),
    );
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

/** How long after connecting the socket closed; Infinity when still open after `ms`. */
function closedWithin(exchange: RawExchange, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const open = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), ms);
  });
  return Promise.race([exchange.closed, open]).finally(() => clearTimeout(timer));
}

/**
 * Issue 11, item 4 (HTTP hardening), each reproduced against the earlier code: a body
 * trickled forever held its socket, a refused request's socket stayed open, one address
 * could open any number of connections, and a large base64 attachment answered 500.
 */
describe('HTTP listener hardening', () => {
  let intake: InProcessRelay;
  let port: number;
  let secret: string;

  before(async () => {
    intake = await startInProcessRelay(
      { POSTWARDEN_HTTP_REQUEST_TIMEOUT: '1s' },
      { role: 'intake', logger: silentLogger },
    );
    port = Number(new URL(intake.baseUrl).port);
    ({ secret } = await intake.relay.services.credentials.create({
      name: 'shop',
      allowFrom: ['*@example.com'],
    }));
  });

  after(async () => {
    await intake?.close();
  });

  it('answers 408 request_timeout and closes when a body does not arrive in time', async () => {
    const exchange = await connect(port);
    exchange.socket.write(
      'POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${secret}\r\nContent-Length: 1000\r\n\r\n{`,
    );
    const timer = setInterval(() => exchange.socket.write(' '), 200);
    const closedAfter = await closedWithin(exchange, 5000);
    clearInterval(timer);
    exchange.socket.destroy();
    assert.match(exchange.received(), /^HTTP\/1\.1 408 /);
    assert.match(exchange.received(), /"code":"request_timeout"/);
    assert.ok(closedAfter < 5000, `closed after ${closedAfter} ms`);
  });

  it('closes the connection after refusing a request whose body it did not read', async () => {
    const exchange = await connect(port);
    exchange.socket.write(
      'POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Authorization: Bearer pw_wrong\r\nContent-Length: 100000\r\n\r\n',
    );
    const closedAfter = await closedWithin(exchange, 2000);
    exchange.socket.destroy();
    assert.match(exchange.received(), /^HTTP\/1\.1 401 /);
    assert.match(exchange.received(), /connection: close/i);
    assert.ok(closedAfter < 900, `closed after ${closedAfter} ms, before the request timeout`);
    await intake.relay.services.abuseGuard.unban('127.0.0.1');
  });

  it('takes at most 50 connections from one address, while others are served', async () => {
    const held = await Promise.all(Array.from({ length: 50 }, () => connect(port, '127.0.0.5')));
    const extra = await connect(port, '127.0.0.5');
    const closedAfter = await closedWithin(extra, 2000);
    extra.socket.destroy();
    assert.equal(extra.received(), '', 'refused before a byte is exchanged');
    assert.ok(closedAfter < 900, `the 51st was closed after ${closedAfter} ms`);
    assert.ok(
      held.every((exchange) => !exchange.socket.destroyed),
      'the first 50 stay open',
    );
    const other = await fetch(`${intake.baseUrl}/healthz`, {
      // A different client address: fetch connects from 127.0.0.1.
    });
    assert.equal(other.status, 200);
    for (const exchange of held) exchange.socket.destroy();
    // Once they are gone, the address may connect again.
    await waitUntil(
      async () => {
        const again = await connect(port, '127.0.0.5');
        again.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        await again.closed;
        return /^HTTP\/1\.1 200 /.test(again.received());
      },
      5000,
      'the address to be served again',
    );
  });

  it('accepts a base64 attachment of several megabytes (no regex stack overflow)', async () => {
    const content = Buffer.alloc(6 * 1024 * 1024, 7).toString('base64');
    const withAttachment = (attachment: string) =>
      fetch(`${intake.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          from: 'orders@example.com',
          to: 'a@example.net',
          subject: 'big',
          text: 'see attachment',
          attachments: [{ filename: 'big.bin', content: attachment }],
        }),
      });
    const response = await withAttachment(content);
    assert.equal(response.status, 202, await response.text());
    assert.equal((await withAttachment(`${content.slice(0, -4)}*AAA`)).status, 400);
  });
});
