import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import {
  ADMIN_PASSWORD,
  type AdminApp,
  login,
  loginAttempt,
  startAdminApp,
} from '../support/admin-app.js';
import { waitUntil as waitFor } from '../support/wait-until.js';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const XSS_SUBJECT = '<script>window.__xss=1</script><img src=x onerror=alert(1)>';
const XSS_NAME = '<img src=x onerror=alert(2)>';
const XSS_HTML =
  '<p>hi</p><script>window.__xss=1</script><img src=x onerror="alert(3)"><a href="javascript:alert(4)">x</a>';
const XSS_TEXT = 'text <script>alert(5)</script> <svg onload=alert(6)>';

/**
 * Message data is escaped, so every `<` left in a page starts our own markup: the one
 * script tag, and tags without event-handler attributes or javascript: links. The
 * sandboxed frame's srcdoc (escaped, inert) is the one place the payload may sit.
 */
function assertNoActiveMarkup(page: string, where: string): void {
  const tags = page.replace(/ srcdoc="[^"]*"/g, ' srcdoc=""').match(/<[a-zA-Z][^>]*>/g) ?? [];
  for (const tag of tags) {
    if (/^<script\b/i.test(tag)) {
      assert.equal(tag, '<script src="/admin/static/admin.js" defer>', `${where}: stray ${tag}`);
    }
    assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `${where}: event handler in ${tag}`);
    assert.doesNotMatch(tag, /javascript:/i, `${where}: javascript: in ${tag}`);
    assert.doesNotMatch(tag, /^<(img|svg) src=x/i, `${where}: message markup became a tag: ${tag}`);
  }
  assert.doesNotMatch(page, /<img src=x|<svg onload/i, `${where}: raw payload`);
}

function sample(url: string): string {
  return url.replace(':id', 'aaaaaaaaaaaaaaaaaaaaa').replace(':name', 'shop').replace('*', 'x');
}

describe('admin page security', () => {
  let relay: AdminApp;
  const logLines: string[] = [];

  before(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
    relay = await startAdminApp({ logger });
  });

  after(async () => {
    await relay?.close();
  });

  it('answers every admin page with 302 to the login and every admin API route with 401 without a session', async () => {
    const routes = relay.relay.adminRoutes.filter((route) => route.access !== 'public');
    assert.ok(routes.length >= 20, `only ${routes.length} admin routes registered`);
    const unknown = [
      { method: 'GET', url: '/admin/no-such-page', access: 'page' },
      { method: 'POST', url: '/admin/no-such-action', access: 'page' },
      { method: 'GET', url: '/admin/api/no-such-route', access: 'api' },
    ] as const;
    for (const cookie of [undefined, 'pw_admin=forged-session-id']) {
      for (const route of [...routes, ...unknown]) {
        const url = sample(route.url);
        const response = await fetch(`${relay.baseUrl}${url}`, {
          method: route.method,
          redirect: 'manual',
          headers: {
            ...(cookie ? { cookie } : {}),
            ...(route.method === 'POST'
              ? { 'content-type': 'application/x-www-form-urlencoded' }
              : {}),
          },
          ...(route.method === 'POST'
            ? { body: 'ip=127.0.0.1&name=x&allowFrom=*@example.com' }
            : {}),
        });
        const label = `${route.method} ${url} (cookie: ${cookie ?? 'none'})`;
        assert.equal(response.headers.get('content-security-policy'), CSP, label);
        if (route.access === 'api') {
          assert.equal(response.status, 401, label);
          assert.deepEqual(
            ((await response.json()) as { error: { code: string } }).error.code,
            'unauthorized',
            label,
          );
        } else {
          assert.equal(response.status, 302, label);
          assert.equal(response.headers.get('location'), '/admin/login', label);
          await response.arrayBuffer();
        }
      }
    }
  });

  it('sends the strict security headers on admin pages, the login page and static files', async () => {
    const client = await login(relay.baseUrl, ADMIN_PASSWORD);
    for (const path of ['/admin/login', '/admin', '/admin/messages', '/admin/static/admin.js']) {
      const response = await (path === '/admin/login'
        ? fetch(`${relay.baseUrl}${path}`)
        : client.request(path));
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-security-policy'), CSP, path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(response.headers.get('cache-control'), 'no-store', path);
      await response.arrayBuffer();
    }
    const session = client.cookies.get('pw_admin');
    assert.ok(session && session.length >= 40, 'a long random session id');
  });

  it('changes nothing on a state-changing request without the CSRF token (and does with it)', async () => {
    const client = await login(relay.baseUrl, ADMIN_PASSWORD);
    const { secret } = await relay.services.credentials.create({
      name: 'victim',
      allowFrom: ['*@example.com'],
    });
    const attempts: Array<[string, Record<string, string>]> = [
      ['/admin/credentials', { name: 'evil', allowFrom: '*@evil.example' }],
      ['/admin/credentials/victim/revoke', {}],
      ['/admin/bans/unban', { ip: '192.0.2.7' }],
    ];
    for (let i = 0; i < 10; i++) {
      await relay.services.abuseGuard.recordFailure({
        ip: '192.0.2.7',
        protocol: 'smtp',
        user: 'x',
      });
    }
    assert.equal(await relay.services.abuseGuard.isBanned('192.0.2.7'), true);
    for (const [path, fields] of attempts) {
      const missing = await client.postForm(path, fields, false);
      assert.equal(missing.status, 403, `${path} without token`);
      const wrong = await client.postForm(path, { ...fields, _csrf: 'x'.repeat(43) }, false);
      assert.equal(wrong.status, 403, `${path} with a wrong token`);
    }
    const api = await client.request('/admin/api/bans/unban', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ip: '192.0.2.7' }),
    });
    assert.equal(api.status, 403, 'JSON API without X-CSRF-Token');
    assert.equal(await relay.services.credentials.get('evil'), undefined);
    assert.ok(await relay.services.credentials.authenticateBySecret(secret), 'victim still works');
    assert.equal(await relay.services.abuseGuard.isBanned('192.0.2.7'), true);

    // The same requests with the session's token do change things: the checks above mean something.
    const apiOk = await client.request('/admin/api/bans/unban', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': client.csrf },
      body: JSON.stringify({ ip: '192.0.2.7' }),
    });
    assert.deepEqual(await apiOk.json(), { unbanned: true });
    const revoke = await client.postForm('/admin/credentials/victim/revoke', {});
    assert.equal(revoke.status, 303);
    assert.equal(await relay.services.credentials.authenticateBySecret(secret), undefined);
    const create = await client.postForm('/admin/credentials', {
      name: 'made',
      allowFrom: '*@example.com',
    });
    assert.equal(create.status, 201);
    const page = await create.text();
    assert.match(
      page,
      /<pre class="secret-value" id="new-secret">pw_[^<]+<\/pre>/,
      'secret shown once',
    );
    const list = await (await client.request('/admin/credentials')).text();
    assert.doesNotMatch(list, /pw_[A-Za-z0-9_-]{20,}/, 'the secret is never shown again');
  });

  it('counts five wrong passwords as five admin auth failures and logs in no one', async () => {
    const before = logLines.length;
    for (let i = 0; i < 5; i++) {
      const { client, response } = await loginAttempt(relay.baseUrl, `wrong-${i}`);
      assert.equal(response.status, 401);
      assert.equal(client.cookies.has('pw_admin'), false);
    }
    const failures = logLines
      .slice(before)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.event === 'auth_failed');
    assert.equal(failures.length, 5);
    for (const entry of failures) {
      assert.equal(entry.protocol, 'admin');
      assert.equal(entry.user, 'admin');
      assert.equal(entry.ip, '127.0.0.1');
    }
    const counted = await relay.services.redis.get(
      `${relay.services.keys.abusePrefix()}:fail:127.0.0.1`,
    );
    assert.equal(counted, '5');
    const metrics = await (await fetch(`${relay.baseUrl}/metrics`)).text();
    assert.match(metrics, /^postwarden_auth_failures_total\{protocol="admin"\} 5$/m);
    assert.equal(
      logLines.slice(before).some((line) => line.includes('wrong-')),
      false,
      'no password in logs',
    );
  });

  it('renders a message with <script> and onerror= payloads as text on every page', async () => {
    relay.upstream.script({ rcpt: (address) => (address.startsWith('bounce') ? 550 : 250) });
    const id = await relay.send({
      from: `"${XSS_NAME}" <orders@example.com>`,
      to: ['bounce-xss@example.net'],
      subject: XSS_SUBJECT,
      text: XSS_TEXT,
      html: XSS_HTML,
      headers: { 'X-Campaign': '<script>alert(7)</script>' },
    });
    await waitFor(
      async () => (await relay.services.store.get(id))?.status === 'bounced',
      15_000,
      'bounce',
    );
    await relay.capture(
      'zzzzzzzzzzzzzzzzzzzzz',
      `From: ${XSS_NAME} <orders@example.com>\r\nSubject: ${XSS_SUBJECT}\r\nContent-Type: text/html\r\n\r\n${XSS_HTML}\r\n`,
    );
    const client = await login(relay.baseUrl, ADMIN_PASSWORD);
    const pages = [
      '/admin',
      '/admin/messages',
      '/admin/messages?recipient=bounce-xss',
      `/admin/messages?sender=${encodeURIComponent('<img')}`,
      `/admin/messages/${id}`,
      `/admin/messages/${id}?body=1`,
      '/admin/failed',
      '/admin/captured',
      '/admin/captured/zzzzzzzzzzzzzzzzzzzzz?body=1',
    ];
    for (const path of pages) {
      const response = await client.request(path);
      assert.equal(response.status, 200, path);
      assertNoActiveMarkup(await response.text(), path);
    }
    const message = await (await client.request(`/admin/messages/${id}?body=1`)).text();
    assert.ok(
      message.includes('&lt;script&gt;window.__xss=1&lt;/script&gt;'),
      'subject shown as text',
    );
    assert.match(
      message,
      /<iframe class="body-html" sandbox="" [^>]*srcdoc="[^"]*&lt;script&gt;/,
      'HTML body only in a sandboxed frame',
    );
    assert.ok(message.includes('X-Campaign'), 'headers shown');
    const hidden = await (await client.request(`/admin/messages/${id}`)).text();
    assert.doesNotMatch(hidden, /<iframe/, 'the body stays hidden until asked for');
    const failed = await (await client.request('/admin/failed')).text();
    assert.ok(failed.includes(id), 'the bounced message is listed as failed');
  });

  it('refuses to log in a banned address, even with the right password', async () => {
    for (let i = 0; i < 10; i++) {
      await relay.services.abuseGuard.recordFailure({
        ip: '127.0.0.1',
        protocol: 'admin',
        user: 'admin',
      });
    }
    const { client, response } = await loginAttempt(relay.baseUrl, ADMIN_PASSWORD);
    assert.equal(response.status, 403);
    assert.equal(client.cookies.has('pw_admin'), false);
    await relay.services.abuseGuard.unban('127.0.0.1');
  });
});
