import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_PASSWORD, type AdminApp, startAdminApp } from '../support/admin-app.js';
import { launchChromium } from '../support/chromium.js';
import { waitUntil as waitFor } from '../support/wait-until.js';

/**
 * The admin page in real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * what an operator does when mail stops. Screenshots go to docs/ for the README.
 */
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const XSS_SUBJECT = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2;alert(1)">';
const XSS_HTML =
  '<h1>Sale</h1><script>parent.__xss=3;alert(2)</script><img src=x onerror="parent.__xss=4;alert(3)">';

/**
 * The page's globals as seen inside page.evaluate callbacks (this project compiles without
 * the DOM lib; playwright serializes each callback and runs it in the browser).
 */
interface PageGlobals {
  __xss?: unknown;
  document: { querySelector(selector: string): { textContent: string | null } | null };
}

describe('admin page in a real browser', { timeout: 55_000 }, () => {
  let relay: AdminApp;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const outside: string[] = [];

  before(async () => {
    relay = await startAdminApp();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Nothing may load from outside the relay: record and refuse any such request.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(relay.baseUrl) || url.startsWith('data:') || url === 'about:srcdoc') {
        return route.continue();
      }
      outside.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    mkdirSync(DOCS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await relay?.close();
  });

  async function stat(name: string): Promise<number> {
    return Number(await page.locator(`[data-stat="${name}"]`).first().textContent());
  }

  async function send(to: string, subject: string, extra: Record<string, unknown> = {}) {
    return relay.send({
      from: 'Shop <orders@example.com>',
      to,
      subject,
      text: `Hello ${to}`,
      ...extra,
    });
  }

  async function waitForStatus(id: string, status: string): Promise<void> {
    await waitFor(
      async () => (await relay.services.store.get(id))?.status === status,
      15_000,
      status,
    );
  }

  it('redirects to the login and logs in with the admin password', async () => {
    await page.goto(`${relay.baseUrl}/admin/messages`);
    assert.equal(new URL(page.url()).pathname, '/admin/login');
    await page.getByLabel('Admin password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong password.').waitFor();
    await page.getByLabel('Admin password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/admin');
    const cookie = (await page.context().cookies()).find((entry) => entry.name === 'pw_admin');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
  });

  it('shows the overview counts move after messages are sent', async () => {
    const before = await stat('status-delivered');
    const ids = await Promise.all(
      ['ann', 'bob', 'cy', 'di', 'ed'].map((name) =>
        send(`${name}@example.net`, `Order for ${name}`),
      ),
    );
    for (const id of ids) await waitForStatus(id, 'delivered');
    // The page's own script refreshes the numbers from /admin/api/stats (CSP allows 'self').
    await page.waitForFunction(
      (expected) =>
        Number(
          (globalThis as unknown as PageGlobals).document.querySelector(
            '[data-stat="status-delivered"]',
          )?.textContent,
        ) >= expected,
      before + 5,
      { timeout: 15_000 },
    );
    assert.equal(await stat('status-delivered'), before + 5);
    await page.reload();
    const chartLoaded = await page.locator('#throughput-chart').evaluate((element) => {
      const img = element as unknown as { complete: boolean; naturalWidth: number };
      return img.complete && img.naturalWidth > 0;
    });
    assert.equal(chartLoaded, true, 'the throughput chart renders');
    assert.match((await page.locator('table').last().textContent()) ?? '', /smtp:\/\/127\.0\.0\.1/);
    await page.screenshot({ path: `${DOCS}admin-overview.png`, fullPage: true });
  });

  it('finds a message by recipient and shows its recipients, events and headers', async () => {
    const id = await send('carol@example.net', 'Your invoice 1042', {
      html: '<p>Invoice <b>1042</b></p>',
    });
    await waitForStatus(id, 'delivered');
    await page.goto(`${relay.baseUrl}/admin/messages`);
    await page.getByLabel('Recipient').fill('carol@');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('table.messages tbody tr');
    assert.equal(await rows.count(), 1);
    await rows.first().getByRole('link').click();
    await page.getByRole('heading', { name: 'Recipients' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/admin/messages/${id}`);
    assert.match(
      (await page.locator('table').first().textContent()) ?? '',
      /carol@example\.net\s*delivered/,
    );
    assert.match((await page.locator('ol.timeline').textContent()) ?? '', /queued[\s\S]*delivered/);
  });

  it('shows a bounced message as failed and delivers it after a retry once the upstream is fixed', async () => {
    relay.upstream.script({ rcpt: (address) => (address.startsWith('dave') ? 550 : 250) });
    const id = await send('dave@example.net', 'Password reset', {
      html: '<p>Follow <a href="https://example.com/reset">this link</a> to reset.</p>',
    });
    const others = await Promise.all([
      send('dave.b@example.net', 'Weekly digest'),
      send('dave.c@example.net', 'Receipt 77'),
    ]);
    for (const each of [id, ...others]) await waitForStatus(each, 'bounced');

    await page.goto(`${relay.baseUrl}/admin/failed`);
    assert.equal(await stat('matched'), 3);
    assert.equal(await page.locator(`a[href="/admin/messages/${id}"]`).count(), 1);
    await page.screenshot({ path: `${DOCS}admin-failed.png`, fullPage: true });

    await page.locator(`a[href="/admin/messages/${id}"]`).click();
    assert.match((await page.locator('table').first().textContent()) ?? '', /550/);
    assert.equal(await page.locator('pre.body-text').count(), 0, 'the body is hidden at first');
    await page.getByRole('link', { name: 'Show body' }).click();
    await page.locator('pre.body-text').waitFor();
    await page.screenshot({ path: `${DOCS}admin-message.png`, fullPage: true });

    relay.upstream.script({ rcpt: () => 250 });
    await page.getByRole('button', { name: 'Retry this message' }).click();
    await page.getByText('The message was queued again for delivery.').waitFor();
    await waitForStatus(id, 'delivered');
    await page.reload();
    assert.equal(await page.locator('dl.facts .status').textContent(), 'delivered');
    assert.match(
      (await page.locator('ol.timeline').textContent()) ?? '',
      /retried[\s\S]*delivered/,
    );

    // Retry all matching: the page shows how many first, then retries exactly those.
    await page.goto(`${relay.baseUrl}/admin/failed`);
    assert.equal(await stat('matched'), 2);
    await page.getByRole('button', { name: 'Retry all 2 matching' }).click();
    await page.getByText('Retried 2 message(s).').waitFor();
    for (const each of others) await waitForStatus(each, 'delivered');
  });

  it('renders <script> and onerror= payloads as text, never running them', async () => {
    const id = await send('eve@example.net', XSS_SUBJECT, { html: XSS_HTML });
    await waitForStatus(id, 'delivered');
    await relay.capture(
      'zzzzzzzzzzzzzzzzzzzzz',
      `From: orders@example.com\r\nSubject: ${XSS_SUBJECT}\r\nContent-Type: text/html\r\n\r\n${XSS_HTML}\r\n`,
    );
    for (const path of [
      '/admin/messages?recipient=eve',
      `/admin/messages/${id}`,
      '/admin/captured',
      '/admin/captured/zzzzzzzzzzzzzzzzzzzzz?body=1',
    ]) {
      await page.goto(`${relay.baseUrl}${path}`);
      await page.waitForLoadState('load');
      const flag = await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss);
      assert.equal(flag, undefined, `${path}: script ran`);
    }
    await page.goto(`${relay.baseUrl}/admin/messages/${id}`);
    assert.equal(
      await page.locator('dd.subject').textContent(),
      XSS_SUBJECT,
      'the subject is text',
    );
    await page.goto(`${relay.baseUrl}/admin/captured/zzzzzzzzzzzzzzzzzzzzz?body=1`);
    const frame = page.locator('iframe.body-html');
    assert.equal(await frame.getAttribute('sandbox'), '');
    await page.frameLocator('iframe.body-html').getByRole('heading', { name: 'Sale' }).waitFor();
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss),
      undefined,
    );
    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.deepEqual(outside, [], 'nothing loaded from outside the relay');
  });
});
