import { loadConfig } from '../../src/config/load.js';
import { createSmtpIntake, type SmtpIntake } from '../../src/intake/smtp/server.js';
import { createServices, type Services } from '../../src/runtime/services.js';
import type { NewCredential } from '../../src/security/credentials/store.js';
import { createLogSink } from './log-sink.js';
import { startTestRedis, type TestRedis } from './redis.js';
import { testTlsPair } from './tls.js';

export interface SmtpIntakeHarness {
  redis: TestRedis;
  services: Services;
  intake: SmtpIntake;
  submissionPort: number;
  smtpsPort: number;
  /** JSON log lines written so far (services and intake share the logger). */
  logs: Record<string, unknown>[];
  /** Create a credential; returns its secret. */
  credential(input: NewCredential): Promise<string>;
  /** Message ids in the store. */
  messageIds(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A real SMTP intake on 127.0.0.1 port 0 (STARTTLS + SMTPS) over a throwaway
 * redis-server, with the shared services built as in production.
 */
export async function startSmtpIntake(
  env: Record<string, string> = {},
  options: { keyPrefix?: string; maxClients?: number } = {},
): Promise<SmtpIntakeHarness> {
  const redis = await startTestRedis();
  const { records: logs, logger } = createLogSink();
  const config = loadConfig({ POSTWARDEN_DATA_DIR: redis.dir, ...env });
  const services = await createServices(config, redis.url, logger, {
    keyPrefix: options.keyPrefix ?? 'smtp-test',
  });
  const tls = await testTlsPair();
  const intake = createSmtpIntake({
    host: '127.0.0.1',
    submissionPort: 0,
    smtpsPort: 'ephemeral',
    tls,
    maxMessageBytes: config.maxMessageBytes,
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    accept: services.accept,
    logger,
    hostname: 'relay.test',
    greetingDelayMs: config.smtpGreetingDelayMs,
    ...(options.maxClients === undefined ? {} : { maxClients: options.maxClients }),
  });
  const ports = await intake.listen();
  return {
    redis,
    services,
    intake,
    submissionPort: ports.submissionPort,
    smtpsPort: ports.smtpsPort ?? 0,
    logs,
    async credential(input) {
      return (await services.credentials.create(input)).secret;
    },
    async messageIds() {
      return services.store.listIds(0, 10_000);
    },
    async close() {
      await intake.close(1000);
      await services.close();
      await redis.cleanup();
    },
  };
}
