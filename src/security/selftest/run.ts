import {
  type CheckResult,
  checkAuthBeforeTls,
  checkHttp,
  checkOpenRelay,
  checkSmuggling,
  checkSpoofing,
  type Endpoint,
  type ProbeCredential,
} from './checks.js';
import { checkHeaderSpoofing } from './header-probes.js';

/** What the selftest needs from the relay's own store: credentials to probe with. */
export interface SelftestFixture {
  /** A temporary credential granted exactly one sender. */
  credential(): Promise<ProbeCredential>;
  /** The secret of a temporary credential that has already been revoked. */
  revokedSecret(): Promise<string>;
  /** Remove every temporary credential and take back our own counted failures. */
  cleanup(): Promise<void>;
}

export interface SelftestOptions {
  smtp: Endpoint;
  /** The implicit-TLS port, when the relay has one. */
  smtps?: Endpoint | undefined;
  httpUrl: string;
  fixture: SelftestFixture;
}

export interface SelftestReport {
  ok: boolean;
  results: CheckResult[];
}

/**
 * Attack our own doors from outside, the way CONTRACT §CLI `selftest` lists them, and
 * report one result per check. `ok` is false when any door is open or a required
 * listener could not be reached.
 */
export async function runSelftest(options: SelftestOptions): Promise<SelftestReport> {
  const results: CheckResult[] = [];
  const submission = `smtp ${options.smtp.host}:${options.smtp.port}`;
  try {
    results.push(...(await checkOpenRelay(options.smtp, false, submission, true)));
    if (options.smtps) {
      const smtps = `smtps ${options.smtps.host}:${options.smtps.port}`;
      results.push(...(await checkOpenRelay(options.smtps, true, smtps, true)));
    }
    results.push(await checkAuthBeforeTls(options.smtp, submission));
    const credential = await options.fixture.credential();
    results.push(...(await checkSpoofing(options.smtp, credential, submission)));
    results.push(...(await checkHeaderSpoofing(options.smtp, credential, submission)));
    results.push(await checkSmuggling(options.smtp, credential, submission));
    results.push(...(await checkHttp(options.httpUrl, await options.fixture.revokedSecret())));
  } finally {
    await options.fixture.cleanup();
  }
  return { ok: results.every((result) => result.ok), results };
}

export function formatResult(result: CheckResult): string {
  const mark = result.skipped ? 'SKIP' : result.ok ? 'PASS' : 'FAIL';
  return `${mark}  ${result.name} — ${result.detail}`;
}
