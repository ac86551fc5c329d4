import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_PASSWORD, type AdminApp, startAdminApp } from '../support/admin-app.js';
import { launchChromium } from '../support/chromium.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * Containment and the attack view in real headless Chromium (issue 10, item 6): what an
 * operator does when a key leaks — hold, look, purge (the count shown first), release,
 * pause — and the audit log that records it. Screenshots go to docs/ for the README.
 */
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

describe('containment and attack view in a real browser', { timeout: 90_000 }, () => {
  let relay: AdminApp;
  let browser: Browser;
  let page: Page;

  before(async () => {
    relay = await startAdminApp();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    mkdirSync(DOCS, { recursive: true });
    await page.goto(`${relay.baseUrl}/admin/login`);
    await page.getByLabel('Admin password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await relay?.close();
  });

  const send = (subject: string) =>
    relay.send({ from: 'orders@example.com', to: `${subject}@example.net`, subject, text: 'x' });
  const statusOf = async (id: string) => (await relay.services.store.get(id))?.status;

  it('shows failed logins per hour, the top addresses and names with their ban state, and the bans', async () => {
    const guard = relay.services.abuseGuard;
    for (let i = 0; i < 10; i++) {
      await guard.recordFailure({ ip: '203.0.113.66', protocol: 'smtp', user: 'postmaster' });
    }
    for (const user of ['admin', 'info', 'admin']) {
      await guard.recordFailure({ ip: '198.51.100.23', protocol: 'smtp', user });
    }
    await fetch(`${relay.baseUrl}/v1/messages/x`, { headers: { authorization: 'Bearer pw_bad' } });
    await page.getByRole('link', { name: 'Attacks' }).click();
    await page.getByRole('heading', { name: 'Attacks' }).waitFor();
    assert.equal(await page.locator('[data-stat="failed-logins"]').textContent(), '14');
    const addresses = page.locator('table[data-table="Top addresses"] tbody tr');
    assert.match((await addresses.nth(0).textContent()) ?? '', /203\.0\.113\.66\s*10\s*banned/);
    assert.match((await addresses.nth(1).textContent()) ?? '', /198\.51\.100\.23\s*3\s*not banned/);
    const users = page.locator('table[data-table="Top user names"] tbody tr');
    assert.match((await users.nth(0).textContent()) ?? '', /postmaster\s*10/);
    assert.match(
      (await page.locator('table[data-table="bans"]').textContent()) ?? '',
      /203\.0\.113\.66/,
    );
    await page.screenshot({ path: `${DOCS}admin-attacks.png`, fullPage: true });
    await addresses.nth(0).getByRole('button', { name: 'Unban' }).click();
    await page.getByText('The address was unbanned.').waitFor();
    assert.equal(await guard.isBanned('203.0.113.66'), false);
  });

  it('holds a credential, shows the count before purging, purges; releases what is held again exactly once', async () => {
    await page.getByRole('link', { name: 'Holds' }).click();
    await page.getByLabel('Name').fill('shop');
    await page.getByLabel('Reason').fill('key leaked in a bundle');
    await page.getByRole('button', { name: 'Hold' }).click();
    await page.getByText('The credential is on hold').waitFor();
    const doomed = [await send('doomed-1'), await send('doomed-2'), await send('doomed-3')];
    for (const id of doomed) assert.equal(await statusOf(id), 'held');
    await page.reload();
    const row = page.locator('tr[data-credential="shop"]');
    assert.equal(await row.locator('[data-held]').textContent(), '3');
    assert.match((await row.textContent()) ?? '', /manual — key leaked in a bundle/);
    await page.screenshot({ path: `${DOCS}admin-holds.png`, fullPage: true });

    await row.getByRole('link', { name: 'Purge…' }).click();
    await page.getByRole('heading', { name: 'Purge held messages' }).waitFor();
    assert.equal(await page.locator('[data-stat="purge-count"]').textContent(), '3');
    await page.screenshot({ path: `${DOCS}admin-purge.png`, fullPage: true });
    await page.getByRole('button', { name: 'Purge 3 message(s)' }).click();
    assert.equal(await page.locator('[data-stat="purged"]').textContent(), 'Purged 3 message(s).');
    for (const id of doomed) assert.equal(await statusOf(id), 'purged');

    const kept = [await send('kept-1'), await send('kept-2')];
    await page.reload();
    await page
      .locator('tr[data-credential="shop"]')
      .getByRole('button', { name: 'Release' })
      .click();
    await page.getByText('Released: its held messages').waitFor();
    await waitUntil(
      async () => (await Promise.all(kept.map(statusOf))).every((status) => status === 'delivered'),
      20_000,
      'the released messages delivered',
    );
    assert.equal(relay.upstream.subjects.get('kept-1'), 1);
    assert.equal(relay.upstream.subjects.get('kept-2'), 1);
    for (const subject of ['doomed-1', 'doomed-2', 'doomed-3']) {
      assert.equal(relay.upstream.subjects.get(subject), undefined, `${subject} never sent`);
    }
  });

  it('pauses all delivery from the overview and resumes it', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByLabel('Reason').fill('investigating a leak');
    await page.getByRole('button', { name: 'Pause all delivery' }).click();
    await page.getByText('All delivery is paused').waitFor();
    assert.match(
      (await page.locator('[data-state="paused"]').textContent()) ?? '',
      /investigating a leak/,
    );
    const id = await send('while-paused');
    // Paused: accepted and kept, not sent. Proving that nothing happens needs a bounded
    // wait: the worker looks at a paused job every second, so 1.5 s covers a look.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(relay.upstream.subjects.get('while-paused'), undefined);
    await page.getByRole('button', { name: 'Resume delivery' }).click();
    await page.getByText('Delivery resumed.').waitFor();
    await waitUntil(
      async () => (await statusOf(id)) === 'delivered',
      20_000,
      'delivery after resume',
    );
    assert.equal(relay.upstream.subjects.get('while-paused'), 1);
  });

  it('lists every action in the audit log, by admin, newest first', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const text = (await page.locator('table[data-table="audit"]').textContent()) ?? '';
    const order = ['resume', 'pause', 'release', 'purge', 'hold', 'unban'].map((action) =>
      text.indexOf(action),
    );
    assert.ok(
      order.every((index) => index >= 0),
      text,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'newest first',
    );
    assert.doesNotMatch(text, /pw_[A-Za-z0-9_-]{20,}/, 'never a secret');
    await page.screenshot({ path: `${DOCS}admin-audit.png`, fullPage: true });
  });
});
