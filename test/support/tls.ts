import { generateSelfSignedPair, type TlsPair } from '../../src/runtime/tls.js';

let cached: Promise<TlsPair> | undefined;

/**
 * One self-signed pair for localhost/127.0.0.1/::1 per test process: RSA key generation
 * takes a noticeable moment, and every smtp-server a test starts must use its own pair
 * (never smtp-server's built-in one, whose key is public).
 */
export function testTlsPair(): Promise<TlsPair> {
  cached ??= generateSelfSignedPair(['localhost', '127.0.0.1', '::1']);
  return cached;
}
