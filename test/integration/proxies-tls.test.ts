import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { silentLogger } from '../support/log-sink.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { testTlsPair } from '../support/tls.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request from a chosen loopback address (a proxy, or a client), HTTP or HTTPS. */
function request(
  url: string,
  options: { localAddress?: string; headers?: Record<string, string>; ca?: string } = {},
): Promise<Answer> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        localAddress: options.localAddress ?? '127.0.0.1',
        headers: options.headers ?? {},
        ...(options.ca ? { ca: options.ca, servername: 'localhost' } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const PROXY = '127.0.0.2';

describe('behind a trusted proxy: X-Forwarded-For names the client', () => {
  let relay: InProcessRelay;

  before(async () => {
    relay = await startInProcessRelay(
      { POSTWARDEN_TRUSTED_PROXIES: `${PROXY},10.0.0.0/8` },
      { role: 'intake', logger: silentLogger },
    );
  });

  after(async () => {
    await relay?.close();
  });

  const badToken = (from: string, forwardedFor?: string) =>
    request(`${relay.baseUrl}/v1/messages/x`, {
      localAddress: from,
      headers: {
        authorization: 'Bearer pw_wrong',
        ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
      },
    });

  it('bans the client the proxy reports, not the proxy; its other clients go on', async () => {
    const guard = relay.relay.services.abuseGuard;
    for (let i = 0; i < 10; i++) {
      assert.equal((await badToken(PROXY, '203.0.113.7')).status, 401);
    }
    assert.equal(await guard.isBanned('203.0.113.7'), true);
    assert.equal(await guard.isBanned(PROXY), false);
    assert.equal(await guard.failureCount(PROXY), 0);
    assert.equal((await badToken(PROXY, '203.0.113.7')).status, 403, 'the banned client');
    assert.equal((await badToken(PROXY, '203.0.113.8')).status, 401, 'another client');
  });

  it('takes the right-most address not itself trusted (a client cannot choose its address)', async () => {
    const guard = relay.relay.services.abuseGuard;
    await badToken(PROXY, '198.51.100.1, 203.0.113.20');
    assert.equal(await guard.failureCount('203.0.113.20'), 1);
    assert.equal(await guard.failureCount('198.51.100.1'), 0);
    await badToken(PROXY, '203.0.113.21, 10.1.2.3');
    assert.equal(await guard.failureCount('203.0.113.21'), 1, 'trusted hops are skipped');
  });

  it('ignores X-Forwarded-For from a peer that is not listed', async () => {
    const guard = relay.relay.services.abuseGuard;
    await badToken('127.0.0.3', '203.0.113.30');
    assert.equal(await guard.failureCount('127.0.0.3'), 1);
    assert.equal(await guard.failureCount('203.0.113.30'), 0);
  });
});

describe('behind a trusted proxy: SMTP reads the PROXY protocol header (v1 and v2)', () => {
  let relay: InProcessRelay;
  let smtpPort: number;

  before(async () => {
    relay = await startInProcessRelay(
      { POSTWARDEN_TRUSTED_PROXIES: PROXY },
      { role: 'intake', logger: silentLogger },
    );
    smtpPort = relay.started.smtp?.submissionPort ?? 0;
    const guard = relay.relay.services.abuseGuard;
    for (let i = 0; i < 10; i++) {
      await guard.recordFailure({ ip: '203.0.113.60', protocol: 'smtp', user: 'x' });
    }
  });

  after(async () => {
    await relay?.close();
  });

  const v1 = (client: string) => `PROXY TCP4 ${client} 127.0.0.1 40000 ${smtpPort}\r\n`;
  function v2(client: number[]): Buffer {
    const signature = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
    const body = [...client, 127, 0, 0, 1, 0x9c, 0x40, smtpPort >> 8, smtpPort & 255];
    return Buffer.from([...signature, 0x21, 0x11, 0, body.length, ...body]);
  }
  const greet = async (options: { localAddress: string; talkFirst?: string | Buffer }) => {
    const client = await RawSmtpClient.connect(smtpPort, options);
    client.close();
    return client.greeting;
  };

  it('applies bans to the client the proxy names (v1 and v2), never to the proxy', async () => {
    assert.match(
      await greet({ localAddress: PROXY, talkFirst: v1('203.0.113.60') }),
      /^554 5\.7\.1 /,
    );
    assert.match(await greet({ localAddress: PROXY, talkFirst: v1('203.0.113.61') }), /^220 /);
    assert.match(await greet({ localAddress: PROXY, talkFirst: v2([203, 0, 113, 60]) }), /^554 /);
    assert.match(await greet({ localAddress: PROXY, talkFirst: v2([203, 0, 113, 62]) }), /^220 /);
  });

  it('requires the header from the proxy and ignores it from anyone else', async () => {
    const client = await RawSmtpClient.connect(smtpPort, {
      localAddress: PROXY,
      talkFirst: 'EHLO no-header.example\r\n',
    });
    assert.match(client.greeting, /^421 4\.7\.0 .*PROXY protocol header is required/);
    await client.closed();
    const other = await RawSmtpClient.connect(smtpPort, { localAddress: '127.0.0.3' });
    assert.match(other.greeting, /^220 /);
    assert.match(await other.command(v1('203.0.113.60').trim()), /^5\d\d /);
    other.close();
  });
});

describe('POSTWARDEN_HTTP_TLS=on', () => {
  let relay: InProcessRelay;

  before(async () => {
    relay = await startInProcessRelay(
      { POSTWARDEN_HTTP_TLS: 'on', POSTWARDEN_ADMIN_PASSWORD: 'correct horse battery staple' },
      { role: 'intake', logger: silentLogger },
    );
  });

  after(async () => {
    await relay?.close();
  });

  it('serves HTTPS with the TLS pair and marks admin cookies Secure', async () => {
    assert.match(relay.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const { cert } = await testTlsPair();
    const health = await request(`${relay.baseUrl}/healthz`, { ca: cert });
    assert.equal(health.status, 200);
    const login = await request(`${relay.baseUrl}/admin/login`, { ca: cert });
    assert.equal(login.status, 200);
    const cookies = login.headers['set-cookie'] ?? [];
    assert.ok(cookies.length > 0);
    for (const cookie of cookies) assert.match(cookie, /;\s*Secure/);
    await assert.rejects(request(`${relay.baseUrl.replace('https:', 'http:')}/healthz`));
  });
});
