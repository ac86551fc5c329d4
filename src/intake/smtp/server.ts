import os from 'node:os';
import type { Logger } from 'pino';
import type { SMTPServerOptions } from 'smtp-server';
import { LogEvent } from '../../observability/events.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import type { CredentialStore } from '../../security/credentials/store.js';
import { networkBlockList } from '../../security/networks.js';
import type { AcceptDeps } from '../accept.js';
import type { InflightBudget } from '../inflight-budget.js';
import { Replies, replyText } from './replies.js';
import { createSessionHandlers } from './session.js';
import { PatchedSmtpServer } from './smtp-server-patches.js';
import { createDataHandler } from './submit-data.js';

export interface SmtpIntakeDeps {
  host: string;
  submissionPort: number;
  /**
   * Implicit-TLS port. 0 = off, as POSTWARDEN_SMTPS_PORT says; 'ephemeral' = any free
   * port (tests; the bound port is returned by listen()).
   */
  smtpsPort: number | 'ephemeral';
  tls: { key: string; cert: string };
  maxMessageBytes: number;
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  accept: AcceptDeps;
  logger: Logger;
  /** Name in the greeting and EHLO reply; the machine's host name by default. */
  hostname?: string;
  /** Concurrent connections per listener (default 200). */
  maxClients?: number;
  /** Idle time before a client is disconnected (default 60 s). */
  socketTimeoutMs?: number;
  /**
   * Wait before the 220 greeting (POSTWARDEN_SMTP_GREETING_DELAY; default 0;
   * smtp-server-patches.ts says why).
   */
  greetingDelayMs?: number | undefined;
  /** Load balancers that send a PROXY protocol header (POSTWARDEN_TRUSTED_PROXIES). */
  trustedProxies?: readonly string[] | undefined;
  /** POSTWARDEN_MAX_INFLIGHT_BYTES, shared with the HTTP intake of this process. */
  budget?: InflightBudget | undefined;
}

export interface SmtpIntake {
  /**
   * Port 0 binds a free port; the real bound ports are returned. A port that cannot be
   * bound rejects with Node's listen error (`code`) plus `port` and `variable`.
   */
  listen(): Promise<{ submissionPort: number; smtpsPort: number | undefined }>;
  /** Stop accepting, give open sessions until the deadline, then cut them (421). */
  close(deadlineMs?: number): Promise<void>;
}

/** Longest command line: AUTH PLAIN with a 64-char name and a secret fits many times over. */
const MAX_COMMAND_LENGTH = 2048;

/**
 * Throws PostwardenError `unsupported_dependency` (from PatchedSmtpServer) when the
 * installed smtp-server is not a version smtp-server-patches.ts was written for, so
 * `postwarden start` stops with that message instead of running unpatched behaviour.
 */
export function createSmtpIntake(deps: SmtpIntakeDeps): SmtpIntake {
  const logger = deps.logger.child({ component: 'smtp' });
  const session = createSessionHandlers({ ...deps, logger });
  const onData = createDataHandler({
    accept: deps.accept,
    hostname: deps.hostname,
    stateOf: session.stateOf,
    budget: deps.budget,
  });

  function options(secure: boolean): SMTPServerOptions {
    return {
      secure,
      key: deps.tls.key,
      cert: deps.tls.cert,
      name: deps.hostname ?? os.hostname(),
      disableReverseLookup: true,
      // smtp-server logs whole command lines at debug, AUTH included (GOTCHAS): off.
      logger: false,
      authMethods: ['PLAIN', 'LOGIN'],
      // Needed for the loopback exception; non-loopback cleartext AUTH is refused with
      // 538 by smtp-server-patches.ts and again in onAuth.
      allowInsecureAuth: true,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: true,
      hideREQUIRETLS: true,
      size: deps.maxMessageBytes,
      maxRecipients: deps.accept.limits.maxRecipients,
      maxClients: deps.maxClients ?? 500,
      socketTimeout: deps.socketTimeoutMs ?? 60_000,
      maxCommandLength: MAX_COMMAND_LENGTH,
      authRequiredMessage: replyText(Replies.authRequired),
      onConnect: session.onConnect,
      onClose: session.onClose,
      onAuth: session.onAuth,
      onMailFrom: session.onMailFrom,
      onRcptTo: session.onRcptTo,
      onData,
    };
  }

  const greeting = {
    greetingDelayMs: deps.greetingDelayMs,
    onMalformedAuth: session.onMalformedAuth,
    beforeData: session.beforeData,
    trustedProxies: deps.trustedProxies?.length ? networkBlockList(deps.trustedProxies) : undefined,
  };
  const servers: { server: PatchedSmtpServer; port: number; variable: string }[] = [
    {
      server: new PatchedSmtpServer(options(false), greeting),
      port: deps.submissionPort,
      variable: 'POSTWARDEN_SMTP_PORT',
    },
  ];
  if (deps.smtpsPort !== 0) {
    servers.push({
      server: new PatchedSmtpServer(options(true), greeting),
      port: deps.smtpsPort === 'ephemeral' ? 0 : deps.smtpsPort,
      variable: 'POSTWARDEN_SMTPS_PORT',
    });
  }
  for (const { server } of servers) {
    // Client-side trouble (resets, failed TLS handshakes) surfaces here; never crash on it.
    server.on('error', (error: Error & { code?: string }) => {
      logger.debug({ err: { message: error.message, code: error.code } }, 'smtp connection error');
    });
  }

  let closing: Promise<void> | undefined;

  return {
    async listen() {
      const results = await Promise.allSettled(
        servers.map(({ server, port, variable }) => bind(server, deps.host, port, variable)),
      );
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) {
        // Leave nothing half-open: a listener that did bind is closed again.
        await Promise.all(servers.map(({ server }) => closeServer(server, 0)));
        throw failed.reason;
      }
      const [submissionPort = 0, smtpsPort] = results.map((result) =>
        result.status === 'fulfilled' ? result.value : 0,
      );
      logger.info(
        { event: LogEvent.listening, host: deps.host, submissionPort, smtpsPort },
        'smtp listening',
      );
      return { submissionPort, smtpsPort };
    },
    close(deadlineMs = 10_000) {
      closing ??= Promise.all(servers.map(({ server }) => closeServer(server, deadlineMs))).then(
        () => undefined,
      );
      return closing;
    },
  };
}

/**
 * Listen; a failure rejects with Node's own error (its `code`, e.g. EADDRINUSE, intact)
 * plus the `port` and the `variable` that sets it, so the composition root can say what
 * to change.
 */
function bind(
  server: PatchedSmtpServer,
  host: string,
  port: number,
  variable: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(Object.assign(error, { port, variable }));
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: PatchedSmtpServer, deadlineMs: number): Promise<void> {
  if (!server.server.listening) return Promise.resolve();
  // smtp-server reads closeTimeout when close() is called: after it, open sessions get 421.
  server.options.closeTimeout = Math.max(1, deadlineMs);
  return new Promise((resolve) => server.close(() => resolve()));
}
