import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serializeCookie } from '../../src/admin/session.js';
import { MailQueue } from '../../src/queue/mail-queue.js';
import { Staging } from '../../src/queue/staging.js';
import {
  ADMIN_PASSWORD,
  type AdminApp,
  type AdminClient,
  login,
  loginAttempt,
  startAdminApp,
} from '../support/admin-app.js';
import { waitUntil as waitFor } from '../support/wait-until.js';

function rowIds(page: string): string[] {
  return [...page.matchAll(/<a href="\/admin\/messages\/([0-9a-z]{21})">/g)].map((m) => m[1] ?? '');
}

describe('admin pages and API with a session', () => {
  let relay: AdminApp;
  let client: AdminClient;
  const ids: Record<string, string> = {};

  before(async () => {
    relay = await startAdminApp();
    relay.upstream.script({ rcpt: (address) => (address.startsWith('bounce') ? 550 : 250) });
    ids.alice = await relay.send({
      from: 'Billing <billing@example.com>',
      to: 'alice@example.net',
      subject: 'Invoice',
      text: 'a',
    });
    ids.bob = await relay.send({
      from: 'orders@example.com',
      to: ['bob@example.net'],
      subject: 'Order',
      text: 'b',
    });
    ids.bounce = await relay.send({
      from: 'orders@example.com',
      to: 'bounce@example.net',
      subject: 'Bounce',
      text: 'c',
    });
    for (const id of Object.values(ids)) {
      await waitFor(
        async () => {
          const status = (await relay.services.store.get(id))?.status;
          return status === 'delivered' || status === 'bounced';
        },
        15_000,
        `message ${id} finished`,
      );
    }
    client = await login(relay.baseUrl, ADMIN_PASSWORD);
  });

  after(async () => {
    await relay?.close();
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, scoped to /admin, Secure only when asked', async () => {
    const { response } = await loginAttempt(relay.baseUrl, ADMIN_PASSWORD);
    const session = response.headers.getSetCookie().find((line) => line.startsWith('pw_admin='));
    assert.ok(session);
    assert.match(session, /; Path=\/admin; HttpOnly; SameSite=Strict/);
    assert.doesNotMatch(session, /Secure/);
    assert.match(serializeCookie('pw_admin', 'v', { secure: true }), /; Secure$/);
  });

  it('searches messages by id, sender, recipient, status and time', async () => {
    const search = async (query: string) =>
      rowIds(await (await client.request(`/admin/messages?${query}`)).text());
    assert.deepEqual(await search(`id=${ids.bob}`), [ids.bob]);
    assert.deepEqual(await search('sender=billing'), [ids.alice]);
    assert.deepEqual(await search('recipient=BOB@'), [ids.bob]);
    assert.deepEqual(await search('status=bounced'), [ids.bounce]);
    assert.equal((await search('')).length, 3);
    assert.deepEqual(await search('to=2000-01-01T00:00'), []);
    assert.equal(
      (await search(`from=${new Date(Date.now() - 3_600_000).toISOString().slice(0, 16)}`)).length,
      3,
    );
    const api = (await (await client.request('/admin/api/messages?recipient=alice')).json()) as {
      rows: Array<{ id: string }>;
    };
    assert.deepEqual(
      api.rows.map((row) => row.id),
      [ids.alice],
    );
  });

  it('paginates the message list', async () => {
    // Records for the list only: their jobs go to a queue no worker reads, so the counts
    // checked below stay those of the three messages sent above.
    const { redis, keys } = relay.services;
    const parked = new MailQueue(redis, { ...keys, queuePrefix: () => 'adm:parked' });
    const staging = new Staging(redis, keys, parked);
    try {
      for (let i = 0; i < 26; i++) {
        await staging.stage(
          { id: 'cr_shop', name: 'shop' },
          {
            protocol: 'http',
            envelope: { from: 'orders@example.com', to: ['page@example.net'] },
            raw: Buffer.from('Subject: page\r\n\r\nx\r\n'),
            headerSenders: ['orders@example.com'],
            fromHeader: 'orders@example.com',
            subject: 'page',
            messageIdHeader: `<p${i}@example.com>`,
          },
        );
      }
    } finally {
      await parked.close();
    }
    const first = await (await client.request('/admin/messages?recipient=page@')).text();
    const second = await (await client.request('/admin/messages?recipient=page@&page=2')).text();
    assert.equal((first.match(/<tr>\n<td><a href="\/admin\/messages\//g) ?? []).length, 25);
    assert.match(first, /rel="next" href="\/admin\/messages\?recipient=page%40&amp;page=2"/);
    assert.equal((second.match(/<tr>\n<td><a href="\/admin\/messages\//g) ?? []).length, 1);
  });

  it('shows queue counts, throughput, and the upstream last success and last error', async () => {
    const stats = (await (await client.request('/admin/api/stats')).json()) as {
      byStatus: Record<string, number>;
    };
    assert.equal(stats.byStatus.delivered, 2);
    assert.equal(stats.byStatus.bounced, 1);
    const { points } = (await (await client.request('/admin/api/throughput')).json()) as {
      points: Array<{ accepted: number; delivered: number }>;
    };
    assert.equal(points.length, 60);
    assert.equal(
      points.reduce((sum, point) => sum + point.accepted, 0),
      3,
    );
    assert.equal(
      points.reduce((sum, point) => sum + point.delivered, 0),
      2,
    );
    const { upstreams } = (await (await client.request('/admin/api/upstreams')).json()) as {
      upstreams: Array<{ label: string; lastSuccessAt: string | null; lastError: string | null }>;
    };
    // The configured chain in order: the scripted SMTP upstream, then capture behind it.
    assert.deepEqual(
      upstreams.map((row) => row.label.split(':')[0]),
      ['smtp', 'capture'],
    );
    assert.ok(upstreams[0]?.lastSuccessAt);
    assert.match(upstreams[0]?.lastError ?? '', /bounced: 550/);
    const overview = await (await client.request('/admin/')).text();
    assert.match(overview, /data-stat="status-delivered">2</);
    assert.match(overview, /data-stat="failed-messages">1</);
    const svg = await client.request('/admin/throughput.svg');
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
    assert.match(await svg.text(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('counts failed messages for a filter first, then retries exactly those', async () => {
    const page = await (
      await client.request('/admin/failed?status=bounced&credential=shop')
    ).text();
    assert.match(page, /data-stat="matched">1</);
    assert.deepEqual(rowIds(page), [ids.bounce]);
    const none = await (await client.request('/admin/failed?credential=someone-else')).text();
    assert.match(none, /data-stat="matched">0</);
    assert.doesNotMatch(none, /Retry all/);
    relay.upstream.script({ rcpt: () => 250 });
    const retry = await client.postForm('/admin/failed/retry', {
      status: 'bounced',
      credential: 'shop',
      since: '',
    });
    assert.equal(retry.status, 303);
    assert.match(retry.headers.get('location') ?? '', /retried=1/);
    await waitFor(
      async () => (await relay.services.store.get(ids.bounce ?? ''))?.status === 'delivered',
      15_000,
      'redelivery',
    );
  });

  it('lists bans and unbans an address', async () => {
    for (let i = 0; i < 10; i++) {
      await relay.services.abuseGuard.recordFailure({
        ip: '198.51.100.4',
        protocol: 'smtp',
        user: 'x',
      });
    }
    assert.match(
      await (await client.request('/admin/bans')).text(),
      /<code>198\.51\.100\.4<\/code>/,
    );
    const unban = await client.postForm('/admin/bans/unban', { ip: '198.51.100.4' });
    assert.equal(unban.headers.get('location'), '/admin/bans?flash=unbanned');
    assert.equal(await relay.services.abuseGuard.isBanned('198.51.100.4'), false);
    const again = await client.postForm('/admin/bans/unban', { ip: '198.51.100.4' });
    assert.equal(again.headers.get('location'), '/admin/bans?flash=not_banned');
  });

  it('shows the captured mailbox with headers and the body on request', async () => {
    await relay.capture(
      'ccccccccccccccccccccc',
      'From: a@example.com\r\nSubject: Captured one\r\n\r\nplain body\r\n',
    );
    const list = await (await client.request('/admin/captured')).text();
    assert.match(list, /href="\/admin\/captured\/ccccccccccccccccccccc"/);
    const hidden = await (await client.request('/admin/captured/ccccccccccccccccccccc')).text();
    assert.match(hidden, /Captured one/);
    assert.doesNotMatch(hidden, /plain body/);
    const shown = await (
      await client.request('/admin/captured/ccccccccccccccccccccc?body=1')
    ).text();
    assert.match(shown, /<pre class="body-text">plain body/);
    assert.equal((await client.request('/admin/captured/..%2F..%2Fetc%2Fpasswd')).status, 404);
  });

  it('logs out: the session stops working', async () => {
    const session = await login(relay.baseUrl, ADMIN_PASSWORD);
    const cookie = `pw_admin=${session.cookies.get('pw_admin')}`;
    assert.equal((await session.postForm('/admin/logout', {})).status, 303);
    const after = await fetch(`${relay.baseUrl}/admin/api/stats`, { headers: { cookie } });
    assert.equal(after.status, 401);
  });
});
