import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { composeRelay, type Relay, type RelayStarted } from '../../src/runtime/compose.js';
import type { RelayOverrides } from '../../src/runtime/roles.js';
import { startTestRedis, type TestRedis } from './redis.js';
import { testTlsPair } from './tls.js';

export interface InProcessRelay {
  relay: Relay;
  started: RelayStarted;
  /** `http://127.0.0.1:PORT` of its HTTP listener. */
  baseUrl: string;
  redis: TestRedis;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A relay built by the production composition root (composeRelay) from a configuration,
 * in this process, on a throwaway Redis (or `options.redis`): every listener on
 * 127.0.0.1 port 0, a temp data dir, the test TLS pair. `env` adds to or overrides that
 * configuration; `overrides` are composeRelay's (role, logger, key prefix, ...).
 */
export async function startInProcessRelay(
  env: Record<string, string> = {},
  overrides: RelayOverrides = {},
  options: { redis?: TestRedis } = {},
): Promise<InProcessRelay> {
  const redis = options.redis ?? (await startTestRedis());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pw-relay-'));
  const tls = await testTlsPair();
  writeFileSync(path.join(dataDir, 'cert.pem'), tls.cert);
  writeFileSync(path.join(dataDir, 'key.pem'), tls.key, { mode: 0o600 });
  const config = loadConfig({
    REDIS_URL: redis.url,
    POSTWARDEN_DATA_DIR: dataDir,
    POSTWARDEN_HTTP_HOST: '127.0.0.1',
    POSTWARDEN_HTTP_PORT: '0',
    POSTWARDEN_SMTP_HOST: '127.0.0.1',
    POSTWARDEN_SMTP_PORT: '0',
    POSTWARDEN_SMTPS_PORT: '0',
    POSTWARDEN_TLS_CERT: path.join(dataDir, 'cert.pem'),
    POSTWARDEN_TLS_KEY: path.join(dataDir, 'key.pem'),
    LOG_LEVEL: 'silent',
    ...env,
  });
  const relay = await composeRelay(config, overrides);
  let started: RelayStarted;
  try {
    started = await relay.start();
  } catch (error) {
    await relay.close('start failed');
    throw error;
  }
  return {
    relay,
    started,
    baseUrl: started.httpUrl,
    redis,
    dataDir,
    async close() {
      await relay.close('test finished');
      if (!options.redis) await redis.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
