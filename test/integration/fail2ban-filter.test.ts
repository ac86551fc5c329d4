import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/observability/logger.js';
import { createKeys } from '../../src/redis/keys.js';
import { AbuseGuard } from '../../src/security/abuse-guard.js';
import { createLogSink } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

const FILTER = path.resolve('deploy/fail2ban/filter.d/postwarden.conf');

/** The failregex lines of the filter, as JavaScript regexes (<ADDR>/<HOST> → a capture). */
function failRegexes(): RegExp[] {
  const text = readFileSync(FILTER, 'utf8');
  const block = /failregex\s*=\s*([\s\S]*?)\n\s*\n/.exec(text)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => new RegExp(line.replace(/<(ADDR|HOST)>/g, '(?<host>[0-9a-fA-F.:]+)')));
}

describe('fail2ban filter against real relay log lines', () => {
  let server: TestRedis;
  let redis: Redis;
  const { stream, lines } = createLogSink();

  before(async () => {
    server = await startTestRedis();
    redis = new Redis({ path: server.socket });
    const guard = new AbuseGuard(redis, createKeys('f2b'), createLogger('info', stream));
    for (let n = 0; n < 10; n++) {
      await guard.recordFailure({ ip: '::ffff:203.0.113.9', protocol: 'smtp', user: 'shop' });
    }
    await guard.recordFailure({ ip: '198.51.100.7', protocol: 'http', user: null });
    // An attacker-chosen user name that tries to smuggle another address into the line.
    await guard.recordFailure({ ip: '192.0.2.1', protocol: 'smtp', user: '","ip":"10.9.9.9"' });
    await new Promise((resolve) => setImmediate(resolve));
  });

  after(async () => {
    redis.disconnect();
    await server.cleanup();
  });

  it('writes auth_failed and ip_banned lines with a plain IPv4 address', () => {
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const failed = events.filter((event) => event.event === 'auth_failed');
    const banned = events.filter((event) => event.event === 'ip_banned');
    assert.equal(failed.length, 12);
    assert.equal(banned.length, 1);
    assert.equal(banned[0]?.ip, '203.0.113.9');
    assert.deepEqual(
      { protocol: failed[10]?.protocol, user: failed[10]?.user },
      { protocol: 'http', user: null },
    );
    assert.ok(lines.every((line) => !line.includes('::ffff:')));
  });

  it('matches every failure and ban line with the address that failed, never an injected one', () => {
    const regexes = failRegexes();
    assert.ok(regexes.length > 0);
    const hosts = lines.map((line) =>
      regexes.map((re) => re.exec(line)?.groups?.host).find(Boolean),
    );
    assert.equal(hosts.filter((host) => host === '203.0.113.9').length, 11);
    assert.equal(hosts.filter((host) => host === '198.51.100.7').length, 1);
    assert.equal(hosts.filter((host) => host === '192.0.2.1').length, 1);
    assert.ok(!hosts.includes('10.9.9.9'));
  });

  it('is accepted by fail2ban-regex itself when fail2ban is installed', (t) => {
    const probe = spawnSync('fail2ban-regex', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      t.skip('fail2ban-regex is not installed');
      return;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pw-f2b-'));
    try {
      const log = path.join(dir, 'postwarden.log');
      writeFileSync(log, `${lines.join('\n')}\n`);
      const result = spawnSync('fail2ban-regex', [log, FILTER], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
      const matched = /Lines:\s*\d+ lines, \d+ ignored, (\d+) matched/.exec(result.stdout)?.[1];
      assert.equal(Number(matched), lines.length, result.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
