import type { Logger } from 'pino';
import type { UpstreamSpec } from '../config/parse.js';
import { type CaptureIndexWriter, createCaptureUpstream } from './capture.js';
import { createFailoverUpstream } from './failover.js';
import { createSmtpUpstream, type SmtpTimeouts } from './smtp.js';
import type { Upstream } from './types.js';

export interface UpstreamOptions {
  dataDir: string;
  /** Extra trusted CA (PEM) for tests; production trusts a private CA via NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | undefined;
  timeouts?: Partial<SmtpTimeouts> | undefined;
  logger?: Logger | undefined;
  /** Idle sessions kept per SMTP upstream: the deliveries in flight (worker concurrency). */
  idleSessions?: number | undefined;
  /** Where the capture upstream notes what it kept (the admin's mailbox lists it). */
  captureIndex?: CaptureIndexWriter | undefined;
  /** Applied to each configured upstream before the failover chain (status tracking). */
  wrap?: ((upstream: Upstream) => Upstream) | undefined;
}

/** POSTWARDEN_UPSTREAM_URL (parsed) → one Upstream; several → a failover chain in order. */
export function createUpstreams(specs: UpstreamSpec[], options: UpstreamOptions): Upstream {
  const upstreams = specs.map((spec) =>
    spec.kind === 'capture'
      ? createCaptureUpstream(options.dataDir, options.captureIndex)
      : createSmtpUpstream(spec, {
          ca: options.ca,
          timeouts: options.timeouts,
          logger: options.logger,
          pool: options.idleSessions ? { maxIdle: options.idleSessions } : undefined,
        }),
  );
  const wrapped = options.wrap ? upstreams.map(options.wrap) : upstreams;
  const [only] = wrapped;
  if (wrapped.length === 1 && only) return only;
  return createFailoverUpstream(wrapped);
}
