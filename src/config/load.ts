import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { UpstreamSpec } from './parse.js';
import { settings } from './schema.js';

type ParsedOf<K extends keyof typeof settings> = ReturnType<(typeof settings)[K]['parse']>;

/** The validated, frozen configuration. Only this module reads the environment. */
export interface Config {
  redisUrl: string | undefined;
  dataDir: string;
  httpHost: string;
  httpPort: number;
  smtpHost: string;
  smtpPort: number;
  smtpsPort: number;
  smtpGreetingDelayMs: number;
  httpRequestTimeoutMs: number;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  upstreams: UpstreamSpec[];
  adminPassword: string | undefined;
  maxMessageBytes: number;
  maxRecipients: number;
  /** POSTWARDEN_MAX_INFLIGHT_BYTES: message bytes held while receiving, process-wide. */
  maxInflightBytes: number;
  /** Default trailing-hour volume above which a credential is held; 0 = never. */
  holdAbove: number;
  /** Messages one held credential may have waiting before new ones are refused. */
  holdMax: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  retryLifetimeMs: number;
  /** Final messages are deleted this long after their last event (queue/retention.ts). */
  retentionMs: number;
  workerConcurrency: number;
  durability: ParsedOf<'durability'>;
  minReplicas: number;
  logLevel: string;
  trustedNetworks: string[];
  trustedProxies: string[];
  httpTls: ParsedOf<'httpTls'>;
  /** Lead forms: the default sender of form submissions. */
  formsFrom: string;
  /** Webhooks: first retry delay (doubling, capped at 10 h), lifetime, private targets allowed. */
  webhookRetryBaseMs: number;
  webhookLifetimeMs: number;
  webhookAllowPrivate: boolean;
}

type Env = Record<string, string | undefined>;

function read<K extends keyof typeof settings>(env: Env, key: K): ParsedOf<K> | undefined {
  const setting = settings[key];
  const raw = env[setting.env];
  const value = raw !== undefined && raw.trim() !== '' ? raw.trim() : setting.defaultText;
  if (value === undefined) return undefined;
  return setting.parse(value as never, setting.env) as ParsedOf<K>;
}

function required<K extends keyof typeof settings>(env: Env, key: K): ParsedOf<K> {
  const value = read(env, key);
  if (value === undefined) throw new Error(`config: ${settings[key].env} has no default`);
  return value;
}

/** Environment → Config. Throws ConfigError naming the variable for a bad value. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const tlsCert = read(env, 'tlsCert');
  const tlsKey = read(env, 'tlsKey');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError(
      'POSTWARDEN_TLS_CERT and POSTWARDEN_TLS_KEY must be set together (or neither, for a generated pair)',
    );
  }
  const config: Config = {
    redisUrl: read(env, 'redisUrl'),
    dataDir: path.resolve(required(env, 'dataDir')),
    httpHost: required(env, 'httpHost'),
    httpPort: required(env, 'httpPort'),
    smtpHost: required(env, 'smtpHost'),
    smtpPort: required(env, 'smtpPort'),
    smtpsPort: required(env, 'smtpsPort'),
    smtpGreetingDelayMs: required(env, 'smtpGreetingDelayMs'),
    httpRequestTimeoutMs: required(env, 'httpRequestTimeoutMs'),
    tlsCert,
    tlsKey,
    upstreams: required(env, 'upstreams'),
    adminPassword: read(env, 'adminPassword'),
    maxMessageBytes: required(env, 'maxMessageBytes'),
    maxRecipients: required(env, 'maxRecipients'),
    maxInflightBytes: required(env, 'maxInflightBytes'),
    holdAbove: required(env, 'holdAbove'),
    holdMax: required(env, 'holdMax'),
    retryBaseMs: required(env, 'retryBaseMs'),
    retryMaxDelayMs: required(env, 'retryMaxDelayMs'),
    retryLifetimeMs: required(env, 'retryLifetimeMs'),
    retentionMs: required(env, 'retentionMs'),
    workerConcurrency: required(env, 'workerConcurrency'),
    durability: required(env, 'durability'),
    minReplicas: required(env, 'minReplicas'),
    logLevel: required(env, 'logLevel'),
    trustedNetworks: required(env, 'trustedNetworks'),
    trustedProxies: required(env, 'trustedProxies'),
    httpTls: required(env, 'httpTls'),
    formsFrom: required(env, 'formsFrom'),
    webhookRetryBaseMs: required(env, 'webhookRetryBaseMs'),
    webhookLifetimeMs: required(env, 'webhookLifetimeMs'),
    webhookAllowPrivate: required(env, 'webhookAllowPrivate'),
  };
  return Object.freeze(config);
}
