import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';

// No Docker engine runs here: the several-machines layout is checked by reading it.
interface Service {
  command?: string[];
  environment?: Record<string, string>;
  networks?: Record<string, { ipv4_address?: string }> | string[];
}
const compose = parse(readFileSync('deploy/ha/compose-ha.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const haproxy = readFileSync('deploy/ha/haproxy.cfg', 'utf8');
const sentinel = readFileSync('deploy/ha/sentinel.conf', 'utf8');
const services = compose.services;
function address(name: string): string | undefined {
  const networks = services[name]?.networks as
    | Record<string, { ipv4_address?: string }>
    | undefined;
  return networks?.relay?.ipv4_address;
}

/** A service's environment as Postwarden would read it (compose interpolation filled in). */
function envOf(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(services[name]?.environment ?? {}).map(([key, value]) => [
      key,
      String(value).replace(/\$\{[A-Z_]+:[-?]([^}]*)\}/g, (_, fallback: string) =>
        /^set /.test(fallback) ? 'a long admin password' : fallback,
      ),
    ]),
  );
}

describe('deploy/ha: several machines (compose file read, not run)', () => {
  it('has a primary, a replica, three sentinels, two intakes, two workers and HAProxy', () => {
    assert.deepEqual(
      Object.keys(services).sort(),
      [
        'redis-primary',
        'redis-replica',
        'sentinel-1',
        'sentinel-2',
        'sentinel-3',
        'intake-1',
        'intake-2',
        'worker-1',
        'worker-2',
        'haproxy',
      ].sort(),
    );
    assert.deepEqual(services['intake-1']?.command?.slice(-2), ['--role', 'intake']);
    assert.deepEqual(services['worker-2']?.command?.slice(-2), ['--role', 'worker']);
    assert.ok(services['redis-replica']?.command?.includes('--replicaof'));
    assert.match(
      sentinel,
      new RegExp(`sentinel monitor postwarden ${address('redis-primary')} 6379 2`),
    );
  });

  it('every Postwarden process has a valid configuration: Sentinel, replicated durability', () => {
    for (const name of ['intake-1', 'intake-2', 'worker-1', 'worker-2']) {
      const config = loadConfig(envOf(name));
      assert.match(config.redisUrl ?? '', /^redis\+sentinel:\/\/sentinel-1:26379,/, name);
      assert.equal(config.durability, 'replicated', name);
      assert.equal(config.minReplicas, 1, name);
    }
  });

  it('the intakes trust only HAProxy, which sends PROXY v2 on SMTP and X-Forwarded-For on HTTP', () => {
    for (const name of ['intake-1', 'intake-2']) {
      assert.deepEqual(loadConfig(envOf(name)).trustedProxies, [address('haproxy')], name);
    }
    assert.deepEqual(loadConfig(envOf('worker-1')).trustedProxies, []);
    const smtpServers = haproxy.match(/^\s*server intake-\d intake-\d:(2587|2465) .*$/gm) ?? [];
    assert.equal(smtpServers.length, 4);
    for (const line of smtpServers) assert.match(line, /send-proxy-v2/);
    assert.match(haproxy, /http-request del-header X-Forwarded-For\s+option forwardfor/);
  });
});
