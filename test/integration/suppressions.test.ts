import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MessageView } from '../../src/message/types.js';
import { createSuppressionOperator } from '../../src/runtime/services.js';
import { type AdminClient, fieldValue, login } from '../support/admin-app.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { metricSample } from '../support/metrics-text.js';
import { waitUntil } from '../support/wait-until.js';

const ADMIN_PASSWORD = 'suppressions admin password';
const FINAL = new Set(['delivered', 'bounced', 'expired', 'suppressed', 'partial', 'purged']);

/**
 * CONTRACT §Suppressions and §Delivery on the production composition root, in-process,
 * against a real fake upstream that refuses some recipients with scripted enhanced codes:
 * 5.1.1 adds the address to that credential's list, the next message to it records the
 * recipient `suppressed` with nothing sent for it, other credentials are not affected,
 * 5.2.2 never suppresses, removal (API, operator) makes it deliverable again; the gauge,
 * the HTTP routes' auth and ownership, and the admin page.
 */
describe('suppressions: bounces to the list, the list at delivery', () => {
  let upstream: FakeUpstream;
  let relay: InProcessRelay;
  /** Lower-cased addresses the upstream refuses at RCPT, with their reply line. */
  const refusals = new Map<string, string>([
    ['gone@example.net', '550 5.1.1 <gone@example.net>: no such user'],
    ['full@example.net', '552 5.2.2 mailbox full'],
    ['case@example.net', '550 5.1.1 no such user'],
  ]);
  const secrets = new Map<string, string>();
  let sequence = 0;

  before(async () => {
    upstream = await startFakeUpstream({
      mode: 'plain',
      rcpt: (address) => refusals.get(address) ?? 250,
    });
    relay = await startInProcessRelay({
      POSTWARDEN_UPSTREAM_URL: upstream.url,
      POSTWARDEN_ADMIN_PASSWORD: ADMIN_PASSWORD,
      POSTWARDEN_WORKER_CONCURRENCY: '2',
    });
    for (const name of ['shop', 'other']) {
      const { secret } = await relay.relay.services.credentials.create({
        name,
        allowFrom: ['*@example.com'],
      });
      secrets.set(name, secret);
    }
  });
  after(async () => {
    await relay?.close();
    await upstream?.close();
  });

  const secretOf = (name: string) => secrets.get(name) ?? assert.fail(`no secret for ${name}`);

  /** POST one message and wait until nothing of it is pending; its final view. */
  async function send(credential: string, to: string[]): Promise<MessageView> {
    sequence += 1;
    const response = await fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secretOf(credential)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        from: 'orders@example.com',
        to,
        subject: `s-${sequence}`,
        text: 'hi',
      }),
    });
    assert.equal(response.status, 202, 'suppression never changes the answer at intake');
    const { id } = (await response.json()) as { id: string };
    let view: MessageView | undefined;
    await waitUntil(
      async () => {
        view = await relay.relay.operator.show(id);
        return view !== undefined && FINAL.has(view.status);
      },
      15_000,
      `message ${id} final`,
    );
    return view as MessageView;
  }

  const recipient = (view: MessageView, address: string) =>
    view.recipients.find((one) => one.address === address) ?? assert.fail(`no ${address}`);

  const api = (credential: string | undefined, path: string, init: RequestInit = {}) =>
    fetch(`${relay.baseUrl}${path}`, {
      ...init,
      headers: credential ? { authorization: `Bearer ${secretOf(credential)}` } : {},
    });

  async function listOf(credential: string) {
    const response = await api(credential, '/v1/suppressions');
    assert.equal(response.status, 200);
    return (await response.json()) as {
      data: Array<{ address: string; reason: string; createdAt: string }>;
      next?: string;
    };
  }

  const gauge = async () =>
    metricSample(await relay.relay.metrics.render(), 'postwarden_suppressions');

  it('a 550 5.1.1 bounce makes the message partial and puts the address on the list', async () => {
    assert.equal(await gauge(), 0);
    const view = await send('shop', ['gone@example.net', 'ok1@example.net']);
    assert.equal(view.status, 'partial');
    assert.equal(recipient(view, 'gone@example.net').status, 'bounced');
    assert.equal(recipient(view, 'ok1@example.net').status, 'delivered');
    const list = await listOf('shop');
    assert.deepEqual(
      list.data.map((entry) => entry.address),
      ['gone@example.net'],
    );
    assert.match(list.data[0]?.reason ?? '', /^550 5\.1\.1 /);
    assert.ok(!Number.isNaN(Date.parse(list.data[0]?.createdAt ?? '')));
    assert.equal(await gauge(), 1);
  });

  it('the next message to it: that recipient suppressed, nothing sent for it, the other delivered', async () => {
    const rcptsBefore = upstream.rcptAttempts('gone@example.net');
    const view = await send('shop', ['gone@example.net', 'ok2@example.net']);
    assert.equal(view.status, 'partial');
    const gone = recipient(view, 'gone@example.net');
    assert.equal(gone.status, 'suppressed');
    assert.match(gone.detail, /^suppressed: 550 5\.1\.1 .* at \d{4}-\d\d-\d\dT/);
    assert.equal(recipient(view, 'ok2@example.net').status, 'delivered');
    assert.ok(view.events.some((event) => event.type === 'suppressed'));
    assert.equal(upstream.rcptAttempts('gone@example.net'), rcptsBefore, 'no RCPT for it');
    const last = upstream.received.at(-1);
    assert.deepEqual(last?.to, ['ok2@example.net'], 'the upstream got the other recipient only');
    const metrics = await relay.relay.metrics.render();
    assert.equal(metricSample(metrics, 'postwarden_deliveries_total{outcome="suppressed"}'), 1);
  });

  it('a message whose every recipient is suppressed is `suppressed`, with no upstream transaction', async () => {
    const received = upstream.received.length;
    const rcpts = upstream.rcptAttempts('gone@example.net');
    const view = await send('shop', ['gone@example.net']);
    assert.equal(view.status, 'suppressed');
    assert.equal(view.attempts, 0, 'no delivery attempt was made');
    assert.equal(upstream.received.length, received);
    assert.equal(upstream.rcptAttempts('gone@example.net'), rcpts);
  });

  it('another credential sending to the same address is not suppressed (its own list)', async () => {
    const rcpts = upstream.rcptAttempts('gone@example.net');
    const view = await send('other', ['gone@example.net', 'ok3@example.net']);
    assert.equal(recipient(view, 'gone@example.net').status, 'bounced', 'sent, refused again');
    assert.equal(upstream.rcptAttempts('gone@example.net'), rcpts + 1);
    assert.deepEqual(
      (await listOf('other')).data.map((entry) => entry.address),
      ['gone@example.net'],
    );
    assert.equal(await gauge(), 2);
  });

  it('5.2.2 (mailbox full) bounces but never suppresses', async () => {
    const first = await send('shop', ['full@example.net']);
    assert.equal(recipient(first, 'full@example.net').status, 'bounced');
    const second = await send('shop', ['full@example.net']);
    assert.equal(recipient(second, 'full@example.net').status, 'bounced');
    assert.equal(upstream.rcptAttempts('full@example.net'), 2);
    assert.ok(!(await listOf('shop')).data.some((entry) => entry.address.startsWith('full@')));
  });

  it('compares the domain case-insensitively and the local part as written', async () => {
    const first = await send('shop', ['Case@Example.NET']);
    assert.equal(recipient(first, 'Case@Example.NET').status, 'bounced');
    assert.ok((await listOf('shop')).data.some((entry) => entry.address === 'Case@example.net'));
    const sameDomainOtherCase = await send('shop', ['Case@EXAMPLE.net']);
    assert.equal(recipient(sameDomainOtherCase, 'Case@EXAMPLE.net').status, 'suppressed');
    const otherLocalCase = await send('shop', ['case@example.net']);
    assert.equal(
      recipient(otherLocalCase, 'case@example.net').status,
      'bounced',
      'a local part written otherwise is another address: sent (and refused)',
    );
  });

  it('GET/DELETE /v1/suppressions: 401 without a bearer, each credential only its own list', async () => {
    assert.equal((await api(undefined, '/v1/suppressions')).status, 401);
    assert.equal(
      (await api(undefined, '/v1/suppressions/gone@example.net', { method: 'DELETE' })).status,
      401,
    );
    const bad = await fetch(`${relay.baseUrl}/v1/suppressions`, {
      headers: { authorization: 'Bearer not-a-secret' },
    });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'unauthorized');
    await createSuppressionOperator(relay.relay.services, 'cli:test').add(
      'only-other@example.net',
      'other',
    );
    const shop = await listOf('shop');
    assert.ok(!shop.data.some((entry) => entry.address === 'only-other@example.net'));
    // DELETE of another credential's entry is a 404 and leaves it in place.
    const foreign = await api('shop', '/v1/suppressions/only-other@example.net', {
      method: 'DELETE',
    });
    assert.equal(foreign.status, 404);
    assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, 'not_found');
    assert.ok(
      (await listOf('other')).data.some((entry) => entry.address === 'only-other@example.net'),
    );
  });

  it('pages the list with a cursor', async () => {
    const first = (await (await api('shop', '/v1/suppressions?limit=1')).json()) as {
      data: Array<{ address: string }>;
      next?: string;
    };
    assert.equal(first.data.length, 1);
    assert.ok(first.next);
    const second = (await (
      await api('shop', `/v1/suppressions?limit=1&after=${encodeURIComponent(first.next)}`)
    ).json()) as { data: Array<{ address: string }> };
    assert.notEqual(second.data[0]?.address, first.data[0]?.address);
    assert.equal((await api('shop', '/v1/suppressions?limit=0')).status, 400);
  });

  it('DELETE /v1/suppressions/ADDRESS → 204, then the address is delivered again', async () => {
    refusals.delete('gone@example.net'); // the mailbox exists again
    const removed = await api(
      'shop',
      `/v1/suppressions/${encodeURIComponent('gone@EXAMPLE.net')}`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(removed.status, 204);
    const again = await api('shop', '/v1/suppressions/gone@example.net', { method: 'DELETE' });
    assert.equal(again.status, 404);
    const view = await send('shop', ['gone@example.net']);
    assert.equal(view.status, 'delivered');
    assert.ok((await listOf('other')).data.some((entry) => entry.address === 'gone@example.net'));
  });

  it('operator remove (as the CLI does) → delivered again; retry of a suppressed message sends it', async () => {
    refusals.set('again@example.net', '550 5.1.1 no such user');
    await send('shop', ['again@example.net']);
    const suppressed = await send('shop', ['again@example.net']);
    assert.equal(suppressed.status, 'suppressed');
    refusals.delete('again@example.net');
    const operator = createSuppressionOperator(relay.relay.services, 'cli:test');
    const change = await operator.remove('again@example.net', 'shop');
    assert.deepEqual(change.changed, ['shop']);
    assert.deepEqual((await operator.remove('again@example.net', 'shop')).changed, []);
    assert.equal((await send('shop', ['again@example.net'])).status, 'delivered');
    const retried = await relay.relay.operator.retry(suppressed.id);
    assert.equal(retried.retried, true);
    await waitUntil(
      async () => (await relay.relay.operator.show(suppressed.id))?.status === 'delivered',
      15_000,
      'the retried message delivered',
    );
    const audit = await relay.relay.operator.auditLog(20);
    assert.ok(
      audit.some(
        (entry) => entry.action === 'suppression-remove' && entry.target === 'again@example.net',
      ),
    );
  });

  it('the gauge follows adds and removes', async () => {
    const before = (await gauge()) ?? -1;
    const operator = createSuppressionOperator(relay.relay.services, 'cli:test');
    await operator.add('gauge@example.net', 'shop');
    await operator.add('gauge@example.net', 'shop'); // already there: no change
    assert.equal(await gauge(), before + 1);
    await operator.remove('gauge@example.net', 'shop');
    assert.equal(await gauge(), before);
  });

  it('a form has a list of its own (form:NAME): its bounced --to address is suppressed for it only', async () => {
    refusals.set('leads@example.net', '550 5.1.1 no such user');
    const form = await relay.relay.services.forms.create({
      name: 'contact',
      to: ['leads@example.net'],
      origins: ['https://www.example.com'],
    });
    const post = async () => {
      const response = await fetch(`${relay.baseUrl}/v1/forms/${form.id}`, {
        method: 'POST',
        headers: { origin: 'https://www.example.com', 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hello' }),
      });
      assert.equal(response.status, 202);
      const { id } = (await response.json()) as { id: string };
      let view: MessageView | undefined;
      await waitUntil(
        async () => {
          view = await relay.relay.operator.show(id);
          return view !== undefined && FINAL.has(view.status);
        },
        15_000,
        `lead ${id} final`,
      );
      return view as MessageView;
    };
    assert.equal((await post()).status, 'bounced');
    const operator = createSuppressionOperator(relay.relay.services, 'cli:test');
    const list = await operator.list({ credential: 'form:contact' });
    assert.deepEqual(
      list.entries.map((entry) => [entry.owner, entry.address]),
      [['form:contact', 'leads@example.net']],
    );
    const rcpts = upstream.rcptAttempts('leads@example.net');
    assert.equal((await post()).status, 'suppressed', 'kept as suppressed, not lost');
    assert.equal(upstream.rcptAttempts('leads@example.net'), rcpts);
    assert.ok(!(await listOf('shop')).data.some((entry) => entry.address === 'leads@example.net'));
  });

  it('without a credential, add and remove apply to every current credential and form', async () => {
    const operator = createSuppressionOperator(relay.relay.services, 'cli:test');
    const added = await operator.add('every@example.net');
    assert.deepEqual(added.changed.sort(), ['form:contact', 'other', 'shop']);
    const all = await operator.list();
    assert.equal(all.entries.filter((entry) => entry.address === 'every@example.net').length, 3);
    const removed = await operator.remove('every@example.net');
    assert.deepEqual(removed.changed.sort(), ['form:contact', 'other', 'shop']);
    await assert.rejects(operator.list({ credential: 'nobody' }), { code: 'unknown_credential' });
  });

  describe('admin page', () => {
    let client: AdminClient;
    before(async () => {
      client = await login(relay.baseUrl, ADMIN_PASSWORD);
    });

    it('lists entries escaped, filters by credential, removes with CSRF, audits', async () => {
      await relay.relay.services.suppressions.add({
        owner: (await relay.relay.services.credentials.get('shop'))?.id ?? '',
        credential: 'shop',
        address: 'evil@example.net',
        reason: '550 5.1.1 <script>alert(1)</script>',
        source: 'bounce',
        at: new Date().toISOString(),
      });
      const page = await (await client.request('/admin/suppressions?credential=shop')).text();
      assert.match(page, /evil@example\.net/);
      assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.doesNotMatch(page, /<script>alert/);
      assert.doesNotMatch(page, /only-other@example\.net/, 'filtered to shop');
      assert.match(page, /href="\/admin\/suppressions"/, 'nav link');
      const all = await (await client.request('/admin/suppressions')).text();
      assert.match(all, /only-other@example\.net/);
      const unknown = await (await client.request('/admin/suppressions?credential=nobody')).text();
      assert.match(unknown, /No credential or form by that name/);

      const owner = fieldValue(page.slice(page.indexOf('evil@example.net') - 2000), 'owner');
      assert.ok(owner);
      const fields = { owner, credential: 'shop', address: 'evil@example.net' };
      const noCsrf = await client.postForm('/admin/suppressions/remove', fields, false);
      assert.equal(noCsrf.status, 403);
      const removed = await client.postForm('/admin/suppressions/remove', fields);
      assert.equal(removed.status, 303);
      assert.match(removed.headers.get('location') ?? '', /flash=suppression_removed/);
      const lookup = await relay.relay.services.suppressions.lookup(owner, ['evil@example.net']);
      assert.equal(lookup.size, 0);
      const audit = await relay.relay.operator.auditLog(5);
      assert.ok(
        audit.some(
          (entry) =>
            entry.actor === 'admin' &&
            entry.action === 'suppression-remove' &&
            entry.target === 'evil@example.net',
        ),
      );
    });

    it('adds an address by hand (audited as admin)', async () => {
      const added = await client.postForm('/admin/suppressions', {
        credential: 'other',
        address: 'manual@Example.net',
      });
      assert.match(added.headers.get('location') ?? '', /flash=suppression_added/);
      const list = await listOf('other');
      const entry = list.data.find((one) => one.address === 'manual@example.net');
      assert.equal(entry?.reason, 'manual');
      const bad = await client.postForm('/admin/suppressions', {
        credential: 'other',
        address: 'not an address',
      });
      assert.match(bad.headers.get('location') ?? '', /flash=bad_address/);
    });
  });
});
