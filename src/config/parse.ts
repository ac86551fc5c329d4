import { ConfigError } from '../errors.js';

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `500ms`, `30s`, `5m`, `1h`, `3d` → milliseconds (CONTRACT §Configuration). */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = DURATION_UNITS[match[2] as string];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

export function parseInteger(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

export type UpstreamTls = 'starttls' | 'implicit' | 'off';

export type UpstreamSpec =
  | { kind: 'capture'; label: string }
  | {
      kind: 'smtp';
      /** Printable form without the password, for logs and the admin page. */
      label: string;
      host: string;
      port: number;
      tls: UpstreamTls;
      auth?: { user: string; pass: string };
    };

/**
 * One entry of POSTWARDEN_UPSTREAM_URL. `smtp://` means STARTTLS is required,
 * `smtps://` implicit TLS, `?tls=off` cleartext (only when written so).
 */
export function parseUpstreamUrl(text: string): UpstreamSpec {
  const trimmed = text.trim();
  if (trimmed === 'capture') return { kind: 'capture', label: 'capture' };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ConfigError(
      `POSTWARDEN_UPSTREAM_URL: "${redactUrl(trimmed)}" is not a URL; write capture, smtp://host:587 or smtps://host:465`,
    );
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'smtp' && scheme !== 'smtps') {
    throw new ConfigError(
      `POSTWARDEN_UPSTREAM_URL: unknown scheme "${scheme}"; use smtp://, smtps:// or capture`,
    );
  }
  if (!url.hostname) throw new ConfigError('POSTWARDEN_UPSTREAM_URL: the URL has no host');
  const tlsParam = url.searchParams.get('tls');
  if (tlsParam !== null && tlsParam !== 'off') {
    throw new ConfigError('POSTWARDEN_UPSTREAM_URL: the only tls parameter is tls=off');
  }
  if (tlsParam === 'off' && scheme === 'smtps') {
    throw new ConfigError('POSTWARDEN_UPSTREAM_URL: smtps:// cannot have tls=off');
  }
  const tls: UpstreamTls =
    scheme === 'smtps' ? 'implicit' : tlsParam === 'off' ? 'off' : 'starttls';
  const port = url.port ? Number(url.port) : scheme === 'smtps' ? 465 : 587;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const user = decodeURIComponent(url.username);
  const spec: UpstreamSpec = {
    kind: 'smtp',
    label: `${scheme}://${url.host}${tls === 'off' ? '?tls=off' : ''}`,
    host,
    port,
    tls,
  };
  if (user) spec.auth = { user, pass: decodeURIComponent(url.password) };
  return spec;
}

export function parseUpstreamList(text: string): UpstreamSpec[] {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0)
    throw new ConfigError('POSTWARDEN_UPSTREAM_URL: empty; write capture or an smtp URL');
  return parts.map(parseUpstreamUrl);
}

/** Strip a password from a URL-ish string so it can appear in an error message. */
export function redactUrl(text: string): string {
  return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
