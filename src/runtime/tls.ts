import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { generate } from 'selfsigned';
import { ConfigError } from '../errors.js';

export interface TlsPair {
  key: string;
  cert: string;
}

/**
 * A fresh self-signed certificate for `hostnames` (DNS names and IP literals go into the
 * subjectAltName). RSA 2048 + SHA-256, valid for ten years: it is only ever the default
 * for a relay nobody gave a certificate, and clients of it must pin or skip verification.
 */
export async function generateSelfSignedPair(hostnames: string[]): Promise<TlsPair> {
  const names = hostnames.length > 0 ? hostnames : ['localhost'];
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((name) =>
          isIP(name) ? { type: 7, ip: name } : { type: 2, value: name },
        ),
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

async function readPem(file: string, variable: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    if (!text.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return text;
  } catch (error) {
    throw new ConfigError(
      `${variable}=${file} cannot be used: ${(error as Error).message}. Point ${variable} at a readable PEM file, or unset POSTWARDEN_TLS_CERT and POSTWARDEN_TLS_KEY to use a generated self-signed certificate.`,
    );
  }
}

async function readExisting(certPath: string, keyPath: string): Promise<TlsPair | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return cert.includes('-----BEGIN ') && key.includes('-----BEGIN ') ? { key, cert } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The SMTP listeners' key and certificate. Configured PEM paths win (both are required
 * together); otherwise `tls/cert.pem` + `tls/key.pem` under the data dir are reused, or
 * generated once (CONTRACT §Configuration: "self-signed, generated into the data dir").
 * smtp-server's built-in pair is never used: its private key is public (GOTCHAS).
 */
export async function loadOrCreateTls(config: {
  dataDir: string;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}): Promise<TlsPair & { generated: boolean }> {
  if (config.tlsCert || config.tlsKey) {
    if (!config.tlsCert || !config.tlsKey) {
      throw new ConfigError(
        'POSTWARDEN_TLS_CERT and POSTWARDEN_TLS_KEY must be set together (PEM paths of the certificate and its private key).',
      );
    }
    const [cert, key] = await Promise.all([
      readPem(config.tlsCert, 'POSTWARDEN_TLS_CERT'),
      readPem(config.tlsKey, 'POSTWARDEN_TLS_KEY'),
    ]);
    return { key, cert, generated: false };
  }
  const dir = path.join(config.dataDir, 'tls');
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  const existing = await readExisting(certPath, keyPath);
  if (existing) return { ...existing, generated: false };
  const pair = await generateSelfSignedPair(['localhost', '127.0.0.1', '::1']);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The key is written first and 0600 from the start (mode on create, chmod for umask).
  await writeFile(keyPath, pair.key, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certPath, pair.cert, { mode: 0o600 });
  await chmod(certPath, 0o600);
  return { ...pair, generated: true };
}
