import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { parseDuration, parseUpstreamUrl } from '../../src/config/parse.js';
import { settings } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';

describe('configuration', () => {
  it('has the contract defaults with no environment at all', () => {
    const config = loadConfig({});
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.httpHost, '127.0.0.1');
    assert.equal(config.httpPort, 8080);
    assert.equal(config.smtpHost, '127.0.0.1');
    assert.equal(config.smtpPort, 2587);
    assert.equal(config.smtpsPort, 2465);
    assert.equal(config.smtpGreetingDelayMs, 0);
    assert.equal(config.httpRequestTimeoutMs, 30_000);
    assert.deepEqual(config.upstreams, [{ kind: 'capture', label: 'capture' }]);
    assert.equal(config.maxMessageBytes, 26_214_400);
    assert.equal(config.maxRecipients, 100);
    assert.equal(config.retryBaseMs, 60_000);
    assert.equal(config.retryMaxDelayMs, 3_600_000);
    assert.equal(config.retryLifetimeMs, 72 * 3_600_000);
    assert.equal(config.retentionMs, 30 * 86_400_000);
    assert.equal(config.workerConcurrency, 20);
    assert.equal(config.durability, 'fsync');
    assert.equal(config.logLevel, 'info');
    assert.ok(Object.isFrozen(config));
  });

  it('parses durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('3d'), 259_200_000);
    assert.equal(parseDuration('3 days'), undefined);
    assert.equal(parseDuration('-1s'), undefined);
  });

  it('parses upstream URLs: STARTTLS required, implicit TLS, explicit cleartext, failover', () => {
    assert.deepEqual(parseUpstreamUrl('smtp://u:p%40ss@mail.example.com:587'), {
      kind: 'smtp',
      label: 'smtp://mail.example.com:587',
      host: 'mail.example.com',
      port: 587,
      tls: 'starttls',
      auth: { user: 'u', pass: 'p@ss' },
    });
    assert.equal((parseUpstreamUrl('smtps://mail.example.com') as { port: number }).port, 465);
    assert.equal((parseUpstreamUrl('smtp://127.0.0.1:2525?tls=off') as { tls: string }).tls, 'off');
    const config = loadConfig({
      POSTWARDEN_UPSTREAM_URL: 'smtp://a.example:587, smtps://b.example:465',
    });
    assert.deepEqual(
      config.upstreams.map((spec) => spec.label),
      ['smtp://a.example:587', 'smtps://b.example:465'],
    );
  });

  it('never shows an upstream password in a label', () => {
    const spec = parseUpstreamUrl('smtp://user:hunter2@mail.example.com:587');
    assert.doesNotMatch(spec.label, /hunter2/);
  });

  const bad: Array<[string, string]> = [
    ['POSTWARDEN_UPSTREAM_URL', 'ftp://mail.example.com'],
    ['POSTWARDEN_UPSTREAM_URL', 'smtps://x.example?tls=off'],
    ['POSTWARDEN_HTTP_PORT', 'abc'],
    ['POSTWARDEN_SMTP_PORT', '70000'],
    ['POSTWARDEN_SMTPS_PORT', '-1'],
    ['POSTWARDEN_SMTP_GREETING_DELAY', '100'],
    ['POSTWARDEN_HTTP_REQUEST_TIMEOUT', '0s'],
    ['POSTWARDEN_MIN_REPLICAS', '0'],
    ['POSTWARDEN_TRUSTED_PROXIES', '10.0.0.0/33'],
    ['POSTWARDEN_HTTP_TLS', 'yes'],
    ['POSTWARDEN_MAX_MESSAGE_BYTES', '0'],
    ['POSTWARDEN_MAX_INFLIGHT_BYTES', '64MB'],
    ['POSTWARDEN_MAX_RECIPIENTS', 'many'],
    ['POSTWARDEN_HOLD_ABOVE', '1000/min'],
    ['POSTWARDEN_HOLD_ABOVE', '1000'],
    ['POSTWARDEN_HOLD_MAX', '0'],
    ['POSTWARDEN_RETRY_BASE', '10'],
    ['POSTWARDEN_RETRY_MAX_DELAY', '1 hour'],
    ['POSTWARDEN_RETRY_LIFETIME', '0s'],
    ['POSTWARDEN_RETENTION', '30 days'],
    ['POSTWARDEN_WORKER_CONCURRENCY', '0'],
    ['POSTWARDEN_DURABILITY', 'sometimes'],
    ['LOG_LEVEL', 'loud'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['POSTWARDEN_HTTP_HOST', 'bad host'],
    ['POSTWARDEN_TRUSTED_NETWORKS', '10.0.0.0/8, not-an-ip'],
    ['POSTWARDEN_TRUSTED_NETWORKS', '10.0.0.0/33'],
    ['POSTWARDEN_SMTP_HOST', 'mail;rm'],
    ['POSTWARDEN_FORMS_FROM', 'Forms <forms@example.com>'],
    ['POSTWARDEN_WEBHOOK_RETRY_BASE', 'soon'],
    ['POSTWARDEN_WEBHOOK_LIFETIME', '0s'],
    ['POSTWARDEN_WEBHOOK_ALLOW_PRIVATE', 'yes'],
  ];
  for (const [variable, value] of bad) {
    it(`refuses ${variable}=${value} with a message naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) => error instanceof ConfigError && error.message.includes(variable),
      );
    });
  }

  // Settings whose value is free text (paths, a password, a list handed to the guard).
  const freeText = new Set([
    'POSTWARDEN_DATA_DIR',
    'POSTWARDEN_TLS_CERT',
    'POSTWARDEN_TLS_KEY',
    'POSTWARDEN_ADMIN_PASSWORD',
    'POSTWARDEN_TRUSTED_NETWORKS',
  ]);

  it('has a refused value above for every validated setting of the schema', () => {
    const tested = new Set(bad.map(([variable]) => variable));
    for (const setting of Object.values(settings)) {
      if (!freeText.has(setting.env)) assert.ok(tested.has(setting.env), setting.env);
    }
  });

  it('reads POSTWARDEN_HOLD_ABOVE as N/h, 0 meaning never', () => {
    assert.equal(loadConfig({ POSTWARDEN_HOLD_ABOVE: '0' }).holdAbove, 0);
    assert.equal(loadConfig({ POSTWARDEN_HOLD_ABOVE: '250/h' }).holdAbove, 250);
    assert.equal(loadConfig({}).holdAbove, 1000);
    assert.equal(loadConfig({}).holdMax, 10_000);
  });

  it('reads a good value of every setting', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6390/2',
      POSTWARDEN_DATA_DIR: '/var/lib/postwarden',
      POSTWARDEN_HTTP_HOST: '::1',
      POSTWARDEN_HTTP_PORT: '9090',
      POSTWARDEN_SMTP_HOST: '0.0.0.0',
      POSTWARDEN_SMTP_PORT: '587',
      POSTWARDEN_SMTPS_PORT: '0',
      POSTWARDEN_SMTP_GREETING_DELAY: '2s',
      POSTWARDEN_HTTP_REQUEST_TIMEOUT: '10s',
      POSTWARDEN_MIN_REPLICAS: '2',
      POSTWARDEN_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.1',
      POSTWARDEN_HTTP_TLS: 'on',
      POSTWARDEN_TLS_CERT: '/etc/ssl/relay.pem',
      POSTWARDEN_TLS_KEY: '/etc/ssl/relay.key',
      POSTWARDEN_UPSTREAM_URL: 'smtps://u:p@mail.example.com:465',
      POSTWARDEN_ADMIN_PASSWORD: 'correct horse battery staple',
      POSTWARDEN_MAX_MESSAGE_BYTES: '1048576',
      POSTWARDEN_MAX_INFLIGHT_BYTES: '2147483648',
      POSTWARDEN_MAX_RECIPIENTS: '5',
      POSTWARDEN_HOLD_ABOVE: '50/h',
      POSTWARDEN_HOLD_MAX: '200',
      POSTWARDEN_RETRY_BASE: '500ms',
      POSTWARDEN_RETRY_MAX_DELAY: '5m',
      POSTWARDEN_RETRY_LIFETIME: '3d',
      POSTWARDEN_RETENTION: '7d',
      POSTWARDEN_WORKER_CONCURRENCY: '4',
      POSTWARDEN_DURABILITY: 'memory',
      LOG_LEVEL: 'debug',
      POSTWARDEN_TRUSTED_NETWORKS: '10.0.0.0/8, 192.0.2.7',
      POSTWARDEN_FORMS_FROM: 'leads@example.com',
      POSTWARDEN_WEBHOOK_RETRY_BASE: '100ms',
      POSTWARDEN_WEBHOOK_LIFETIME: '1h',
      POSTWARDEN_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    assert.deepEqual(
      { ...config, upstreams: config.upstreams.map((spec) => spec.label) },
      {
        redisUrl: 'redis://127.0.0.1:6390/2',
        dataDir: '/var/lib/postwarden',
        httpHost: '::1',
        httpPort: 9090,
        smtpHost: '0.0.0.0',
        smtpPort: 587,
        smtpsPort: 0,
        smtpGreetingDelayMs: 2000,
        httpRequestTimeoutMs: 10_000,
        minReplicas: 2,
        trustedProxies: ['10.0.0.0/8', '192.0.2.1'],
        httpTls: 'on',
        tlsCert: '/etc/ssl/relay.pem',
        tlsKey: '/etc/ssl/relay.key',
        upstreams: ['smtps://mail.example.com:465'],
        adminPassword: 'correct horse battery staple',
        maxMessageBytes: 1_048_576,
        maxInflightBytes: 2_147_483_648,
        holdAbove: 50,
        holdMax: 200,
        maxRecipients: 5,
        retryBaseMs: 500,
        retryMaxDelayMs: 300_000,
        retryLifetimeMs: 259_200_000,
        retentionMs: 604_800_000,
        workerConcurrency: 4,
        durability: 'memory',
        logLevel: 'debug',
        trustedNetworks: ['10.0.0.0/8', '192.0.2.7'],
        formsFrom: 'leads@example.com',
        webhookRetryBaseMs: 100,
        webhookLifetimeMs: 3_600_000,
        webhookAllowPrivate: true,
      },
    );
  });

  it('treats an empty variable as unset (the default applies)', () => {
    const config = loadConfig({ POSTWARDEN_HTTP_PORT: '', REDIS_URL: '  ' });
    assert.equal(config.httpPort, 8080);
    assert.equal(config.redisUrl, undefined);
  });

  it('resolves a relative data dir against the working directory', () => {
    assert.equal(loadConfig({}).dataDir, `${process.cwd()}/data`);
  });

  it('needs the TLS certificate and key together', () => {
    assert.throws(
      () => loadConfig({ POSTWARDEN_TLS_CERT: '/x/cert.pem' }),
      (error: unknown) => error instanceof ConfigError && /POSTWARDEN_TLS_KEY/.test(error.message),
    );
  });
});
