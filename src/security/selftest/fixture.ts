import { randomBytes } from 'node:crypto';
import type { AbuseGuard } from '../abuse-guard.js';
import type { CredentialStore } from '../credentials/store.js';
import type { ProbeCredential } from './checks.js';
import type { SelftestFixture } from './run.js';

/**
 * Temporary credentials in the relay's own Redis, removed afterwards, and the auth
 * failures the probes caused (counted against `clientIps`) taken back, so a selftest
 * leaves no trace and never bans its own host.
 */
export async function createSelftestFixture(
  credentials: CredentialStore,
  abuseGuard: AbuseGuard,
  clientIps: string[],
): Promise<SelftestFixture> {
  const suffix = randomBytes(4).toString('hex');
  const names: string[] = [];
  const before = new Map<string, number>();
  for (const ip of new Set(clientIps)) before.set(ip, await abuseGuard.failureCount(ip));

  const make = async (label: string): Promise<ProbeCredential> => {
    const name = `selftest-${label}-${suffix}`;
    const domain = `selftest-${suffix}.invalid`;
    const sender = `selftest@${domain}`;
    names.push(name);
    const { secret } = await credentials.create({
      name,
      allowFrom: [`*@${domain}`],
      maxRecipients: 1,
    });
    return { name, secret, sender, domain };
  };

  return {
    credential: () => make('probe'),
    async revokedSecret() {
      const revoked = await make('revoked');
      await credentials.revoke(revoked.name);
      return revoked.secret;
    },
    async cleanup() {
      for (const name of names) await credentials.remove(name);
      for (const [ip, count] of before) {
        await abuseGuard.forgiveFailures(ip, (await abuseGuard.failureCount(ip)) - count);
      }
    },
  };
}
