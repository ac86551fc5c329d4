import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import { parseDuration, parseInteger, parseUpstreamList, type UpstreamSpec } from './parse.js';

/**
 * Every setting, once: its environment variable, default, meaning and parser.
 * The README's configuration table is tested against this list.
 */
export interface Setting<T> {
  env: string;
  /** The default as the README writes it; undefined = unset. */
  defaultText: string | undefined;
  description: string;
  parse: (text: string, env: string) => T;
}

function fail(env: string, text: string, expected: string): never {
  throw new ConfigError(`${env}: "${text}" is not valid; expected ${expected}`);
}

const text = (value: string) => value;

/** CONTRACT §Abuse guard: an admin password shorter than this is refused. */
export const MIN_ADMIN_PASSWORD_LENGTH = 12;

/** The admin password is never echoed in the error, unlike other values. */
const adminPassword = (value: string, env: string) => {
  if ([...value].length >= MIN_ADMIN_PASSWORD_LENGTH) return value;
  throw new ConfigError(
    `${env} is too short: an admin password needs at least ${MIN_ADMIN_PASSWORD_LENGTH} characters (unset it to have one generated)`,
  );
};
const port = (value: string, env: string) =>
  parseInteger(value, 0, 65535) ?? fail(env, value, 'a port number 0-65535');
const positiveInt = (value: string, env: string) =>
  parseInteger(value, 1, 1_000_000_000) ?? fail(env, value, 'a positive integer');
const duration = (value: string, env: string) => {
  const ms = parseDuration(value);
  return ms !== undefined && ms > 0
    ? ms
    : fail(env, value, 'a duration such as 500ms, 30s, 5m, 1h, 3d');
};
/** A duration that may be zero (`0ms` = none). */
const durationOrZero = (value: string, env: string) =>
  parseDuration(value) ?? fail(env, value, 'a duration such as 0ms, 500ms, 2s');
/** `N/h` (or `0` = never): a per-hour count, as `--hold-above` writes it. */
export function parsePerHour(value: string): number | undefined {
  const match = /^(\d{1,9})(?:\/h)?$/.exec(value.trim());
  if (!match) return undefined;
  const count = Number(match[1]);
  return value.trim() === '0' || value.trim().endsWith('/h') ? count : undefined;
}
const perHour = (value: string, env: string) =>
  parsePerHour(value) ?? fail(env, value, 'N/h (messages per trailing hour), or 0 for never');
const host = (value: string, env: string) =>
  /^[A-Za-z0-9.:_-]+$/.test(value) ? value : fail(env, value, 'a host name or IP address');

/** `redis+sentinel://[:password@]host:port[,host:port…]/MASTER` (redis/connections.ts reads it). */
function isSentinelUrl(value: string): boolean {
  return /^redis\+sentinel:\/\/(?:[^@/]*@)?[^@/]+:\d+(?:,[^@/,]+:\d+)*\/[A-Za-z0-9._-]+$/.test(
    value,
  );
}

/** Comma-separated IP addresses and CIDR networks, each checked. */
function networkList(value: string, env: string): string[] {
  const entries = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) {
      fail(env, entry, 'IP addresses or CIDR networks, comma-separated (e.g. 10.0.0.0/8, ::1)');
    }
  }
  return entries;
}

export const settings = {
  redisUrl: {
    env: 'REDIS_URL',
    defaultText: undefined,
    description:
      'redis://, rediss://, a unix socket path, or redis+sentinel://[:password@]host:port[,host:port…]/MASTER; unset = embedded Redis (unix socket only)',
    parse: (value: string, env: string) =>
      /^(rediss?:\/\/|\/|\.)/.test(value) || isSentinelUrl(value)
        ? value
        : fail(
            env,
            value,
            'redis://, rediss://, a socket path or redis+sentinel://host:port[,host:port…]/MASTER',
          ),
  },
  dataDir: {
    env: 'POSTWARDEN_DATA_DIR',
    defaultText: './data',
    description: 'embedded Redis files, generated TLS cert, captured mail',
    parse: text,
  },
  httpHost: {
    env: 'POSTWARDEN_HTTP_HOST',
    defaultText: '127.0.0.1',
    description: 'HTTP API, admin and metrics listen address',
    parse: host,
  },
  httpPort: {
    env: 'POSTWARDEN_HTTP_PORT',
    defaultText: '8080',
    description: 'HTTP port',
    parse: port,
  },
  smtpHost: {
    env: 'POSTWARDEN_SMTP_HOST',
    defaultText: '127.0.0.1',
    description: 'SMTP listen address (submission and SMTPS)',
    parse: host,
  },
  smtpPort: {
    env: 'POSTWARDEN_SMTP_PORT',
    defaultText: '2587',
    description: 'SMTP submission with STARTTLS',
    parse: port,
  },
  smtpsPort: {
    env: 'POSTWARDEN_SMTPS_PORT',
    defaultText: '2465',
    description: 'SMTP with implicit TLS (0 = off)',
    parse: port,
  },
  httpRequestTimeoutMs: {
    env: 'POSTWARDEN_HTTP_REQUEST_TIMEOUT',
    defaultText: '30s',
    description:
      'a request (headers and body) must arrive within this; else 408 and the connection is closed',
    parse: duration,
  },
  smtpGreetingDelayMs: {
    env: 'POSTWARDEN_SMTP_GREETING_DELAY',
    defaultText: '0ms',
    description:
      'wait before the SMTP greeting; a client talking earlier is refused (pregreet check)',
    parse: durationOrZero,
  },
  tlsCert: {
    env: 'POSTWARDEN_TLS_CERT',
    defaultText: undefined,
    description: 'PEM certificate path; unset = self-signed, generated into the data dir',
    parse: text,
  },
  tlsKey: {
    env: 'POSTWARDEN_TLS_KEY',
    defaultText: undefined,
    description: 'PEM private key path; unset = generated with the certificate',
    parse: text,
  },
  upstreams: {
    env: 'POSTWARDEN_UPSTREAM_URL',
    defaultText: 'capture',
    description:
      'smtp://user:pass@host:587 (STARTTLS required), smtps://…:465, smtp://host:port?tls=off, comma-separated = failover; capture = keep',
    parse: (value: string): UpstreamSpec[] => parseUpstreamList(value),
  },
  adminPassword: {
    env: 'POSTWARDEN_ADMIN_PASSWORD',
    defaultText: undefined,
    description:
      'admin login, at least 12 characters; unset = generated on first start and printed once',
    parse: adminPassword,
  },
  maxMessageBytes: {
    env: 'POSTWARDEN_MAX_MESSAGE_BYTES',
    defaultText: '26214400',
    description: 'SMTP SIZE and HTTP body limit',
    parse: positiveInt,
  },
  maxInflightBytes: {
    env: 'POSTWARDEN_MAX_INFLIGHT_BYTES',
    defaultText: '268435456',
    description:
      'message bytes the process holds in memory while receiving, across all SMTP and HTTP clients; past it new data is refused for now (452 4.3.1 / 503 server_busy)',
    // Up to 1 TiB: a budget is a memory size, which may pass positiveInt's 10^9.
    parse: (value: string, env: string) =>
      parseInteger(value, 1, 2 ** 40) ?? fail(env, value, 'a number of bytes (positive integer)'),
  },
  maxRecipients: {
    env: 'POSTWARDEN_MAX_RECIPIENTS',
    defaultText: '100',
    description: 'recipients per message, unless the credential says less',
    parse: positiveInt,
  },
  holdAbove: {
    env: 'POSTWARDEN_HOLD_ABOVE',
    defaultText: '1000/h',
    description:
      'a credential that accepted more than this many messages in the trailing hour is put on hold (per credential: --hold-above; 0 = never)',
    parse: perHour,
  },
  holdMax: {
    env: 'POSTWARDEN_HOLD_MAX',
    defaultText: '10000',
    description:
      'messages one held credential may have waiting; past it new ones are refused (451 4.7.1 / 429 credential_held)',
    parse: positiveInt,
  },
  retryBaseMs: {
    env: 'POSTWARDEN_RETRY_BASE',
    defaultText: '60s',
    description: 'delay before the first retry; doubles each time, ±20 % jitter',
    parse: duration,
  },
  retryMaxDelayMs: {
    env: 'POSTWARDEN_RETRY_MAX_DELAY',
    defaultText: '1h',
    description: 'cap on the delay between tries',
    parse: duration,
  },
  retryLifetimeMs: {
    env: 'POSTWARDEN_RETRY_LIFETIME',
    defaultText: '72h',
    description: 'after this, a deferred message expires',
    parse: duration,
  },
  retentionMs: {
    env: 'POSTWARDEN_RETENTION',
    defaultText: '30d',
    description:
      'messages in a final state (delivered, bounced, expired, partial, suppressed, purged) are deleted this long after their last event; queued, deferred and held ones never are',
    parse: duration,
  },
  workerConcurrency: {
    env: 'POSTWARDEN_WORKER_CONCURRENCY',
    defaultText: '20',
    description: 'deliveries in flight per worker process',
    parse: positiveInt,
  },
  durability: {
    env: 'POSTWARDEN_DURABILITY',
    defaultText: 'fsync',
    description:
      'fsync: accept only when Redis fsyncs every write; replicated: fsync and, per accept, WAIT for POSTWARDEN_MIN_REPLICAS replicas; memory: accept what Redis holds',
    parse: (value: string, env: string): 'fsync' | 'replicated' | 'memory' =>
      value === 'fsync' || value === 'replicated' || value === 'memory'
        ? value
        : fail(env, value, 'fsync, replicated or memory'),
  },
  minReplicas: {
    env: 'POSTWARDEN_MIN_REPLICAS',
    defaultText: '1',
    description:
      'with POSTWARDEN_DURABILITY=replicated: replicas that must acknowledge each accepted message',
    parse: positiveInt,
  },
  logLevel: {
    env: 'LOG_LEVEL',
    defaultText: 'info',
    description: 'pino level',
    parse: (value: string, env: string) =>
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value)
        ? value
        : fail(env, value, 'fatal, error, warn, info, debug, trace or silent'),
  },
  trustedNetworks: {
    env: 'POSTWARDEN_TRUSTED_NETWORKS',
    defaultText: '',
    description: 'comma-separated IPs/CIDRs never banned by the abuse guard (empty by default)',
    parse: networkList,
  },
  trustedProxies: {
    env: 'POSTWARDEN_TRUSTED_PROXIES',
    defaultText: '',
    description:
      'IPs/CIDRs of reverse proxies and load balancers: from these peers only, HTTP takes the client address from X-Forwarded-For (the right-most address not itself trusted) and SMTP requires and reads a PROXY protocol v1/v2 header',
    parse: networkList,
  },
  httpTls: {
    env: 'POSTWARDEN_HTTP_TLS',
    defaultText: 'off',
    description: 'on: the HTTP listener speaks HTTPS with the TLS pair; admin cookies get Secure',
    parse: (value: string, env: string): 'on' | 'off' =>
      value === 'on' || value === 'off' ? value : fail(env, value, 'on or off'),
  },
  // Lead forms (issue 12).
  formsFrom: {
    env: 'POSTWARDEN_FORMS_FROM',
    defaultText: 'forms@localhost',
    description: 'sender of form submissions, unless the form sets --from',
    parse: (value: string, env: string) =>
      // One bare address; a one-label domain (the default's `localhost`) is allowed here.
      /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(value)
        ? value
        : fail(env, value, 'an email address such as forms@example.com'),
  },
  // Webhooks (issue 13).
  webhookRetryBaseMs: {
    env: 'POSTWARDEN_WEBHOOK_RETRY_BASE',
    defaultText: '5s',
    description: 'first webhook retry; doubles, capped at 10 h',
    parse: duration,
  },
  webhookLifetimeMs: {
    env: 'POSTWARDEN_WEBHOOK_LIFETIME',
    defaultText: '3d',
    description: 'after this a webhook event is given up',
    parse: duration,
  },
  webhookAllowPrivate: {
    env: 'POSTWARDEN_WEBHOOK_ALLOW_PRIVATE',
    defaultText: 'false',
    description:
      'true allows webhook URLs on loopback and private addresses (refused otherwise: SSRF)',
    parse: (value: string, env: string): boolean =>
      value === 'true' || value === 'false' ? value === 'true' : fail(env, value, 'true or false'),
  },
} satisfies Record<string, Setting<unknown>>;

export type SettingKey = keyof typeof settings;
