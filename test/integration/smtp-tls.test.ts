import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { loadOrCreateTls } from '../../src/runtime/tls.js';
import { testTlsPair } from '../support/tls.js';

describe('loadOrCreateTls', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pw-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generates tls/cert.pem and tls/key.pem (0600) once, then reuses them', async () => {
    const first = await loadOrCreateTls({ dataDir: dir });
    assert.equal(first.generated, true);
    assert.equal(statSync(path.join(dir, 'tls', 'key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dir, 'tls', 'cert.pem')).mode & 0o777, 0o600);
    const cert = new X509Certificate(first.cert);
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/);
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(cert.checkPrivateKey(createPrivateKey(first.key)), true);
    const second = await loadOrCreateTls({ dataDir: dir });
    assert.deepEqual(second, { key: first.key, cert: first.cert, generated: false });
  });

  it('reads configured PEM paths', async () => {
    const pair = await testTlsPair();
    const certPath = path.join(dir, 'own-cert.pem');
    const keyPath = path.join(dir, 'own-key.pem');
    writeFileSync(certPath, pair.cert);
    writeFileSync(keyPath, pair.key);
    const loaded = await loadOrCreateTls({ dataDir: dir, tlsCert: certPath, tlsKey: keyPath });
    assert.deepEqual(loaded, { ...pair, generated: false });
  });

  it('names the variable when a configured file is unreadable or only one is set', async () => {
    const keyPath = path.join(dir, 'own-key.pem');
    await assert.rejects(
      loadOrCreateTls({ dataDir: dir, tlsCert: path.join(dir, 'missing.pem'), tlsKey: keyPath }),
      (error: Error) => error instanceof ConfigError && /POSTWARDEN_TLS_CERT/.test(error.message),
    );
    await assert.rejects(
      loadOrCreateTls({ dataDir: dir, tlsKey: keyPath }),
      (error: Error) => error instanceof ConfigError && /POSTWARDEN_TLS_CERT/.test(error.message),
    );
  });
});
