import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { Staging } from '../../src/queue/staging.js';
import type { Services } from '../../src/runtime/services.js';
import type { Form } from '../../src/security/forms/form-store.js';
import { formSnippet } from '../../src/security/forms/snippet.js';
import { launchChromium } from '../support/chromium.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { silentLogger } from '../support/log-sink.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * A company's page on another origin (its own loopback port) posting the snippet that
 * `forms create` prints, in real headless Chromium (CONTRACT §Lead forms, issue 12).
 */
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

/** The page's globals inside page.evaluate (compiled without the DOM lib). */
interface PageGlobals {
  document: {
    querySelector(selector: string): { value: string } | null;
  };
  fetch: typeof fetch;
}

describe('lead forms in a real browser', { timeout: 120_000 }, () => {
  let upstream: FakeUpstream;
  let relay: InProcessRelay;
  let services: Services;
  let site: Server;
  let siteUrl: string;
  let contact: Form;
  let pow: Form;
  let browser: Browser;
  let page: Page;
  const outside: string[] = [];

  /** The site: the snippet for a form (by name in the path), and its thank-you page. */
  const pages = new Map<string, string>();

  const leadsWith = (token: string) =>
    upstream.received.filter((message) => message.raw.toString('latin1').includes(token));

  async function fillAndSend(path: string, message: string, base = siteUrl): Promise<void> {
    await page.goto(`${base}${path}`);
    await page.fill('input[name="name"]', 'Ada Lovelace');
    await page.fill('input[name="email"]', 'ada@example.org');
    await page.fill('textarea[name="message"]', message);
  }

  before(async () => {
    upstream = await startFakeUpstream({ mode: 'plain' });
    site = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const body = path === '/thanks' ? '<h1>Thanks from the site</h1>' : pages.get(path);
      response.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      response.end(body ?? 'not found');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    relay = await startInProcessRelay(
      { POSTWARDEN_UPSTREAM_URL: upstream.url },
      { keyPrefix: 'forms-browser', logger: silentLogger },
    );
    ({ services } = relay.relay);
    contact = await services.forms.create({
      name: 'contact',
      to: ['sales@example.com'],
      origins: [siteUrl],
      redirect: `${siteUrl}/thanks`,
    });
    pow = await services.forms.create({
      name: 'pow',
      to: ['pow@example.com'],
      origins: [siteUrl],
      redirect: `${siteUrl}/thanks`,
      pow: true,
    });
    const page_ = (snippet: string) =>
      `<!doctype html><html><head><meta charset="utf-8"><title>Contact</title></head><body>${snippet}</body></html>`;
    pages.set('/contact', page_(formSnippet(relay.baseUrl, contact)));
    // The widget solves on load here, so the test need not click its checkbox.
    pages.set(
      '/pow',
      page_(
        formSnippet(relay.baseUrl, pow).replace('<altcha-widget ', '<altcha-widget auto="onload" '),
      ),
    );

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    // The page loads only from the site and the relay: anything else is recorded and refused.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      const local = /^http:\/\/(127\.0\.0\.1|localhost):\d+\//.test(url);
      if (local || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });

  after(async () => {
    await browser?.close();
    await relay?.close();
    await upstream?.close();
    await new Promise((resolve) => site?.close(resolve));
  });

  it('a plain HTML form on another origin: redirected to the thank-you URL, the lead at the fixed recipient with Reply-To', async () => {
    await fillAndSend('/contact', 'token-browser-lead');
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: `${DOCS}forms-page.png` });
    await Promise.all([page.waitForURL(`${siteUrl}/thanks`), page.click('button[type="submit"]')]);
    assert.match((await page.textContent('h1')) ?? '', /Thanks from the site/);
    await waitUntil(() => leadsWith('token-browser-lead').length === 1, 15_000, 'the lead');
    const [lead] = leadsWith('token-browser-lead');
    assert.deepEqual(lead?.to, ['sales@example.com']);
    assert.match(lead?.head ?? '', /^Reply-To: ada@example\.org\r$/im);
    assert.deepEqual(outside, []);
  });

  it('the same page from an origin not on the list is refused and nothing is queued', async () => {
    const waiting = await services.redis.zcard(services.keys.messageIndex());
    // localhost and 127.0.0.1 are different origins to a browser.
    const other = siteUrl.replace('127.0.0.1', 'localhost');
    await fillAndSend('/contact', 'token-browser-evil', other);
    const [response] = await Promise.all([
      page.waitForResponse((answer) => answer.url().includes('/v1/forms/')),
      page.click('button[type="submit"]'),
    ]);
    assert.equal(response.status(), 403);
    assert.match((await page.textContent('body')) ?? '', /not allowed/);
    assert.equal(await services.redis.zcard(services.keys.messageIndex()), waiting);
    assert.equal(leadsWith('token-browser-evil').length, 0);
  });

  it('a bot filling _gotcha gets the same answer, is quarantined, not delivered; released → delivered once', async () => {
    await fillAndSend('/contact', 'token-browser-bot');
    await page.evaluate(() => {
      const trap = (globalThis as unknown as PageGlobals).document.querySelector(
        'input[name="_gotcha"]',
      );
      if (trap) trap.value = 'http://spam.example';
    });
    await Promise.all([page.waitForURL(`${siteUrl}/thanks`), page.click('button[type="submit"]')]);
    const [kept] = await services.formQuarantine.list();
    assert.ok(kept, 'quarantined');
    assert.equal(leadsWith('token-browser-bot').length, 0, 'not delivered');
    const staging = new Staging(services.redis, services.keys, services.queue);
    assert.equal((await services.formQuarantine.release(kept.id, staging)).released, true);
    assert.equal((await services.formQuarantine.release(kept.id, staging)).released, false);
    await waitUntil(() => leadsWith('token-browser-bot').length === 1, 15_000, 'the released lead');
    assert.equal(leadsWith('token-browser-bot').length, 1);
  });

  it('--pow: the ALTCHA widget (served by the relay) solves and submits; a replayed solution is refused', async () => {
    await fillAndSend('/pow', 'token-browser-pow');
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as PageGlobals).document.querySelector('input[name="altcha"]')
          ?.value ?? '') !== '',
      undefined,
      { timeout: 60_000 },
    );
    const solution = await page.evaluate(
      () =>
        (globalThis as unknown as PageGlobals).document.querySelector('input[name="altcha"]')
          ?.value ?? '',
    );
    await page.screenshot({ path: `${DOCS}forms-pow.png` });
    await Promise.all([page.waitForURL(`${siteUrl}/thanks`), page.click('button[type="submit"]')]);
    await waitUntil(() => leadsWith('token-browser-pow').length === 1, 15_000, 'the pow lead');
    const replay = await fetch(`${relay.baseUrl}/v1/forms/${pow.id}`, {
      method: 'POST',
      headers: { origin: siteUrl, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'token-browser-replay', altcha: solution }),
    });
    assert.equal(replay.status, 403);
    assert.equal(
      ((await replay.json()) as { error: { code: string } }).error.code,
      'challenge_failed',
    );
    assert.deepEqual(outside, []);
  });
});
