import type { Config } from '../../src/config/load.js';
import type { Services } from '../../src/runtime/services.js';
import type { NewCredential } from '../../src/security/credentials/store.js';
import { startInProcessRelay } from './in-process-relay.js';
import { createLogSink } from './log-sink.js';
import type { TestRedis } from './redis.js';

export interface SmtpIntakeHarness {
  redis: TestRedis;
  config: Readonly<Config>;
  services: Services;
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
 * redis-server: an intake-role relay built by the production composition root.
 */
export async function startSmtpIntake(
  env: Record<string, string> = {},
  options: { keyPrefix?: string; maxClients?: number } = {},
): Promise<SmtpIntakeHarness> {
  const { records: logs, logger } = createLogSink();
  const { relay, started, redis, close } = await startInProcessRelay(env, {
    role: 'intake',
    logger,
    keyPrefix: options.keyPrefix ?? 'smtp-test',
    smtp: {
      hostname: 'relay.test',
      smtpsPort: 'ephemeral',
      ...(options.maxClients === undefined ? {} : { maxClients: options.maxClients }),
    },
  });
  const { services } = relay;
  const ports = started.smtp ?? { submissionPort: 0, smtpsPort: undefined };
  return {
    redis,
    config: relay.config,
    services,
    submissionPort: ports.submissionPort,
    smtpsPort: ports.smtpsPort ?? 0,
    logs,
    async credential(input) {
      return (await services.credentials.create(input)).secret;
    },
    async messageIds() {
      return services.store.listIds(0, 10_000);
    },
    close,
  };
}
