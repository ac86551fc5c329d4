import { PostwardenError } from '../errors.js';
import { isValidAddress } from '../message/addresses.js';
import type { AuditLog } from '../observability/audit-log.js';
import {
  type Suppression,
  type SuppressionList,
  type SuppressionPage,
  suppressionAddress,
} from './suppressions.js';

/** A list's owner as an operator names it: a credential, or a form principal `form:NAME`. */
export interface SuppressionOwner {
  /** The credential's immutable id, or `form:NAME`. */
  id: string;
  /** What people call it: the credential name, or `form:NAME`. */
  name: string;
}

export interface SuppressionOperatorDeps {
  suppressions: SuppressionList;
  audit: AuditLog;
  /** `admin` or `cli:<OS user>`, written to every audit entry. */
  actor: string;
  /** A credential name (or `form:NAME`) → its owner; undefined when none is current. */
  resolveOwner(name: string): Promise<SuppressionOwner | undefined>;
  /** Every current owner (credentials and forms): what add/remove without a name apply to. */
  allOwners(): Promise<SuppressionOwner[]>;
}

/** The owners an add or remove changed, and those it did not (already there / absent). */
export interface SuppressionChange {
  address: string;
  changed: string[];
  unchanged: string[];
}

/**
 * Suppression list changes an operator makes, from the CLI or the admin page (ARCHITECTURE
 * §19): each is written to the audit log here, so neither edge can forget it. A name is
 * resolved to its credential's immutable id, so a re-created credential of the same name
 * has a list of its own (empty). Without a name, list reads every list (paged, capped),
 * and add/remove apply to every current credential and form.
 */
export class SuppressionOperator {
  readonly #deps: SuppressionOperatorDeps;

  constructor(deps: SuppressionOperatorDeps) {
    this.#deps = deps;
  }

  async list(
    options: { credential?: string | undefined; after?: string | undefined; limit?: number } = {},
  ): Promise<SuppressionPage> {
    const { credential, ...page } = options;
    if (credential === undefined) return this.#deps.suppressions.listAll(page);
    const owner = await this.#owner(credential);
    return this.#deps.suppressions.list(owner.id, page);
  }

  async add(address: string, credential?: string): Promise<SuppressionChange> {
    const bare = checkedAddress(address);
    const owners = await this.#owners(credential);
    const at = new Date().toISOString();
    const change: SuppressionChange = { address: bare, changed: [], unchanged: [] };
    for (const owner of owners) {
      const entry: Suppression = {
        owner: owner.id,
        credential: owner.name,
        address: bare,
        reason: 'manual',
        source: 'manual',
        at,
      };
      const added = await this.#deps.suppressions.add(entry);
      (added ? change.changed : change.unchanged).push(owner.name);
    }
    await this.#audit('suppression-add', bare, change, 'added', 'already listed');
    return change;
  }

  async remove(address: string, credential?: string): Promise<SuppressionChange> {
    const bare = suppressionAddress(address.trim());
    if (bare.length === 0 || bare.length > 254) throw badAddress(address);
    const owners = await this.#owners(credential);
    const change: SuppressionChange = { address: bare, changed: [], unchanged: [] };
    for (const owner of owners) {
      const removed = await this.#deps.suppressions.remove(owner.id, bare);
      (removed ? change.changed : change.unchanged).push(owner.name);
    }
    await this.#audit('suppression-remove', bare, change, 'removed', 'not listed');
    return change;
  }

  /**
   * Remove one listed entry by its owner's id, as a list page shows it (the admin's remove
   * button): also an entry of a revoked credential, whose name now resolves to no list or
   * to a newer credential's.
   */
  async removeEntry(entry: { owner: string; credential: string; address: string }) {
    const removed = await this.#deps.suppressions.remove(entry.owner, entry.address);
    const change: SuppressionChange = {
      address: suppressionAddress(entry.address),
      changed: removed ? [entry.credential] : [],
      unchanged: removed ? [] : [entry.credential],
    };
    await this.#audit('suppression-remove', change.address, change, 'removed', 'not listed');
    return removed;
  }

  async #owner(name: string): Promise<SuppressionOwner> {
    const owner = await this.#deps.resolveOwner(name);
    if (!owner) throw new PostwardenError('unknown_credential', `no credential named ${name}`);
    return owner;
  }

  async #owners(name: string | undefined): Promise<SuppressionOwner[]> {
    return name === undefined ? this.#deps.allOwners() : [await this.#owner(name)];
  }

  async #audit(
    action: string,
    address: string,
    change: SuppressionChange,
    changedWord: string,
    unchangedWord: string,
  ): Promise<void> {
    const parts = [
      change.changed.length > 0 ? `${changedWord}: ${names(change.changed)}` : '',
      change.unchanged.length > 0 ? `${unchangedWord}: ${names(change.unchanged)}` : '',
    ].filter(Boolean);
    await this.#deps.audit.append({
      actor: this.#deps.actor,
      action,
      target: address,
      detail: parts.join('; ') || 'no list',
    });
  }
}

/** At most ten names in an audit entry: an add to every list must not write a huge one. */
function names(list: string[]): string {
  const shown = list.slice(0, 10).join(', ');
  return list.length > 10 ? `${shown} and ${list.length - 10} more` : shown;
}

function badAddress(address: string): PostwardenError {
  return new PostwardenError('invalid_address', `not a valid address: ${JSON.stringify(address)}`);
}

/** The address as it will be compared (domain lower-cased), or a clear error. */
function checkedAddress(address: string): string {
  const trimmed = address.trim();
  if (!isValidAddress(trimmed)) throw badAddress(address);
  return suppressionAddress(trimmed);
}
