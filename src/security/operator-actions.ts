import type { AuditLog } from '../observability/audit-log.js';
import type { AbuseGuard } from './abuse-guard.js';
import type { Credential, CredentialStore, NewCredential } from './credentials/store.js';
import type { SettingsStore } from './settings-store.js';

export interface SecurityOperatorDeps {
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  settings: SettingsStore;
  audit: AuditLog;
  /** `admin` or `cli:<OS user>`, written to every audit entry. */
  actor: string;
}

/**
 * The security state changes an operator makes, from the CLI or the admin page
 * (ARCHITECTURE §19), each written to the audit log here — so neither edge can forget
 * it. Audit details name what changed, never a secret or a password.
 */
export class SecurityOperator {
  readonly #deps: SecurityOperatorDeps;

  constructor(deps: SecurityOperatorDeps) {
    this.#deps = deps;
  }

  async #audit(action: string, target: string, detail: string): Promise<void> {
    await this.#deps.audit.append({ actor: this.#deps.actor, action, target, detail });
  }

  async createCredential(
    input: NewCredential,
  ): Promise<{ credential: Credential; secret: string }> {
    const created = await this.#deps.credentials.create(input);
    const { credential } = created;
    const limits = [
      `allow-from ${credential.allowFrom.join(',')}`,
      credential.ratePerMinute === undefined ? '' : `rate ${credential.ratePerMinute}/min`,
      credential.maxRecipients === undefined ? '' : `max-recipients ${credential.maxRecipients}`,
      credential.holdAbove === undefined ? '' : `hold-above ${credential.holdAbove}/h`,
    ];
    await this.#audit('credential-create', credential.name, limits.filter(Boolean).join('; '));
    return created;
  }

  async revokeCredential(name: string): Promise<boolean> {
    const revoked = await this.#deps.credentials.revoke(name);
    await this.#audit('credential-revoke', name, revoked ? 'revoked' : 'no such credential');
    return revoked;
  }

  /** The new secret (returned to the caller once, never audited), or undefined. */
  async rotateCredential(name: string): Promise<string | undefined> {
    const secret = await this.#deps.credentials.rotate(name);
    await this.#audit('credential-rotate', name, secret ? 'secret replaced' : 'no such credential');
    return secret ?? undefined;
  }

  async unban(ip: string): Promise<boolean> {
    const lifted = await this.#deps.abuseGuard.unban(ip);
    await this.#audit('unban', ip, lifted ? 'ban lifted' : 'was not banned');
    return lifted;
  }

  async setAdminPassword(password: string): Promise<void> {
    await this.#deps.settings.setAdminPassword(password);
    await this.#audit('admin-password', 'admin', 'password changed');
  }
}
