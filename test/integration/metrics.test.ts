import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../src/observability/metrics.js';
import { type AdminApp, startAdminApp } from '../support/admin-app.js';
import { metricSample } from '../support/metrics-text.js';
import { waitUntil as waitFor } from '../support/wait-until.js';

describe('GET /metrics on a running relay', () => {
  let relay: AdminApp;

  before(async () => {
    relay = await startAdminApp();
  });

  after(async () => {
    await relay?.close();
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`${relay.baseUrl}/metrics`);
    assert.equal(response.status, 200);
    return response.text();
  }

  it('counts accepted messages, delivery outcomes and durations, queue state and readiness', async () => {
    relay.upstream.script({ rcpt: (address) => (address.startsWith('bounce') ? 550 : 250) });
    const ok = await relay.send({
      from: 'orders@example.com',
      to: 'a@example.net',
      subject: 's',
      text: 't',
    });
    const bad = await relay.send({
      from: 'orders@example.com',
      to: 'bounce@example.net',
      subject: 's',
      text: 't',
    });
    await waitFor(
      async () => (await relay.services.store.get(ok))?.status === 'delivered',
      15_000,
      'delivered',
    );
    await waitFor(
      async () => (await relay.services.store.get(bad))?.status === 'bounced',
      15_000,
      'bounced',
    );
    const text = await scrape();
    assert.equal(metricSample(text, 'postwarden_messages_accepted_total{protocol="http"}'), 2);
    assert.equal(metricSample(text, 'postwarden_messages_accepted_total{protocol="smtp"}'), 0);
    assert.equal(metricSample(text, 'postwarden_deliveries_total{outcome="delivered"}'), 1);
    assert.equal(metricSample(text, 'postwarden_deliveries_total{outcome="bounced"}'), 1);
    assert.equal(metricSample(text, 'postwarden_delivery_duration_seconds_count'), 2);
    assert.equal(metricSample(text, 'postwarden_queue_messages{state="waiting"}'), 0);
    assert.equal(metricSample(text, 'postwarden_oldest_queued_age_seconds'), 0);
    assert.equal(metricSample(text, 'postwarden_ready'), 1);
    assert.equal(metricSample(text, 'postwarden_bans_active'), 0);
    // Bounded labels: no message id or address ever becomes a label value.
    assert.equal(text.includes(ok), false);
    assert.equal(text.includes('example.net'), false);
  });

  it('counts bans and failed bearer tokens', async () => {
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${relay.baseUrl}/v1/messages/x`, {
        headers: { authorization: 'Bearer pw_wrong' },
      });
      await response.arrayBuffer();
    }
    const text = await scrape();
    assert.equal(metricSample(text, 'postwarden_auth_failures_total{protocol="http"}'), 10);
    assert.equal(metricSample(text, 'postwarden_bans_active'), 1);
    await relay.services.abuseGuard.unban('127.0.0.1');
  });
});

describe('createMetrics', () => {
  it('keeps one registry per runtime and ignores label values outside the closed sets', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.messageAccepted('smtp');
    a.deliveryFinished('nonsense' as never, 1);
    a.authFailed('203.0.113.9' as never);
    const textA = await a.render();
    const textB = await b.render();
    assert.equal(metricSample(textA, 'postwarden_messages_accepted_total{protocol="smtp"}'), 1);
    assert.equal(metricSample(textB, 'postwarden_messages_accepted_total{protocol="smtp"}'), 0);
    assert.equal(textA.includes('nonsense'), false);
    assert.equal(textA.includes('203.0.113.9'), false);
    assert.equal(metricSample(textA, 'postwarden_ready'), 0, 'not ready without a source');
  });

  it('leaves a gauge unset when its source fails instead of failing the scrape', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.setSources({
      queue: async () => {
        throw new Error('redis down');
      },
      ready: () => false,
    });
    const text = await metrics.render();
    assert.equal(metricSample(text, 'postwarden_ready'), 0);
    assert.equal(metricSample(text, 'postwarden_queue_messages{state="waiting"}'), undefined);
  });
});
