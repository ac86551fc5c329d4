import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { type AdminApp, startAdminApp } from '../support/admin-app.js';

const ROOT = new URL('../../', import.meta.url);
const METRIC_NAME = /\b(?:postwarden|process|nodejs)_[a-z0-9_]+\b/g;

/** The CONTRACT §HTTP API names, plus the two the runbook relies on. */
const CONTRACT_METRICS = [
  'postwarden_messages_accepted_total',
  'postwarden_deliveries_total',
  'postwarden_queue_messages',
  'postwarden_oldest_queued_age_seconds',
  'postwarden_auth_failures_total',
  'postwarden_bans_active',
  'postwarden_delivery_duration_seconds_bucket',
  'postwarden_ready',
  'postwarden_credentials_held',
  'postwarden_messages_held',
  'postwarden_delivery_paused',
  'postwarden_holds_total',
  'postwarden_suppressions',
  'postwarden_webhook_deliveries_total',
];

interface Rule {
  alert?: string;
  expr: string;
}

function alertExpressions(): Rule[] {
  const file = parse(readFileSync(new URL('deploy/prometheus/alerts.yml', ROOT), 'utf8')) as {
    groups: Array<{ rules: Rule[] }>;
  };
  return file.groups.flatMap((group) => group.rules);
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(
    readFileSync(new URL('deploy/grafana/postwarden-dashboard.json', ROOT), 'utf8'),
  ) as { panels: Array<{ type: string; targets?: Array<{ expr: string }> }> };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
}

/** Sample names in a Prometheus text exposition (histograms as _bucket/_sum/_count). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1];
    if (name) names.add(name);
  }
  return names;
}

describe('metrics drift: dashboard and alert rules vs a running relay', () => {
  let relay: AdminApp;
  let exported: Set<string>;

  before(async () => {
    relay = await startAdminApp();
    const response = await fetch(`${relay.baseUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    exported = exportedNames(await response.text());
  });

  after(async () => {
    await relay?.close();
  });

  it('exports every metric name the contract lists, before any traffic', () => {
    for (const name of CONTRACT_METRICS) assert.ok(exported.has(name), `missing ${name}`);
    assert.ok(exported.has('process_cpu_seconds_total'), 'process metrics are collected');
  });

  it('exports every metric the alert rules use', () => {
    const rules = alertExpressions();
    const titles = rules.map((rule) => rule.alert);
    for (const wanted of [
      'PostwardenQueueStuck',
      'PostwardenNoDeliveries',
      'PostwardenDeliveryFailureRatio',
      'PostwardenNotReady',
      'PostwardenBanBurst',
      'PostwardenCredentialHeld',
      'PostwardenDeliveryPaused',
    ]) {
      assert.ok(titles.includes(wanted), `alert ${wanted} is defined`);
    }
    for (const rule of rules) {
      const names = rule.expr.match(METRIC_NAME) ?? [];
      assert.ok(names.length > 0, `${rule.alert} uses a postwarden metric`);
      for (const name of names)
        assert.ok(exported.has(name), `${rule.alert}: ${name} is not exported`);
    }
  });

  it('exports every metric the Grafana dashboard uses, and the dashboard shows every contract metric', () => {
    const expressions = dashboardExpressions();
    assert.ok(expressions.length >= 15);
    const used = new Set(expressions.flatMap((expr) => expr.match(METRIC_NAME) ?? []));
    for (const name of used) assert.ok(exported.has(name), `dashboard: ${name} is not exported`);
    for (const name of CONTRACT_METRICS)
      assert.ok(used.has(name), `dashboard does not show ${name}`);
  });

  it('scrapes the job the NotReady rule names', () => {
    const config = parse(
      readFileSync(new URL('deploy/prometheus/prometheus.yml', ROOT), 'utf8'),
    ) as {
      scrape_configs: Array<{ job_name: string; metrics_path: string }>;
      rule_files: string[];
    };
    const job = config.scrape_configs.find((entry) => entry.job_name === 'postwarden');
    assert.equal(job?.metrics_path, '/metrics');
    assert.ok(config.rule_files.includes('alerts.yml'));
    assert.ok(alertExpressions().some((rule) => rule.expr.includes('up{job="postwarden"}')));
  });
});
