import type { Logger } from 'pino';
import type { AuditEntry, AuditLog } from '../observability/audit-log.js';
import { LogEvent } from '../observability/events.js';
import type { HoldInfo, Holds } from './holds.js';
import type { MailQueue } from './mail-queue.js';
import type { MessageRecords } from './message-records.js';
import { findPurgeable, type PurgeFilter } from './purge.js';

/** What an operator needs besides records and the queue: holds, the audit log, who acts. */
export interface OperatorDeps {
  holds: Holds;
  audit: AuditLog;
  logger: Logger;
  /** Written to every audit entry: `admin` or `cli:<OS user>`. */
  actor: string;
}

export interface PauseState {
  paused: boolean;
  reason?: string | undefined;
  at?: string | undefined;
  actor?: string | undefined;
}

/**
 * The containment half of QueueOperator (CONTRACT §Containment): hold, release, purge,
 * pause, resume, and the audit log that every operator action is written to. Shared by the
 * CLI and the admin page through QueueOperator (ARCHITECTURE §19).
 */
export class ContainmentOperator {
  readonly #deps: OperatorDeps & { store: MessageRecords; queue: MailQueue };

  constructor(store: MessageRecords, queue: MailQueue, deps: OperatorDeps) {
    this.#deps = { ...deps, store, queue };
  }

  /** Append to the audit log (and the log, as operator_action). Never a secret in `detail`. */
  protected async audit(action: string, target: string, detail: string): Promise<void> {
    const { actor } = this.#deps;
    await this.#deps.audit.append({ actor, action, target, detail });
    this.#deps.logger.info(
      { event: LogEvent.operatorAction, actor, action, target, detail },
      `operator: ${action}`,
    );
  }

  /** The audit log, newest first. */
  async auditLog(limit?: number): Promise<AuditEntry[]> {
    return this.#deps.audit.list(limit);
  }

  /** Hold a credential's mail by hand. False when it already was on hold. */
  async hold(credential: string, reason = ''): Promise<boolean> {
    const detail = reason || 'held by an operator';
    const held = await this.#deps.holds.hold(credential, 'manual', detail);
    if (held) {
      this.#deps.logger.warn(
        { event: LogEvent.credentialHeld, credential, reason: 'manual', detail },
        'credential put on hold',
      );
    }
    await this.audit('hold', credential, held ? detail : `already on hold; ${detail}`);
    return held;
  }

  /** Clear a credential's hold and put its held messages back on the queue. */
  async release(credential: string): Promise<{ wasHeld: boolean; released: number }> {
    const result = await this.#deps.holds.release(credential);
    this.#deps.logger.info(
      { event: LogEvent.credentialReleased, credential, released: result.released },
      'credential released',
    );
    await this.audit('release', credential, `${result.released} message(s) released`);
    return result;
  }

  async holds(): Promise<HoldInfo[]> {
    return this.#deps.holds.list();
  }

  async holdInfo(credential: string): Promise<HoldInfo | undefined> {
    return this.#deps.holds.get(credential);
  }

  /**
   * End matching messages as `purged` (default: held ones); with dryRun only count them.
   * Delivered, bounced and expired messages are never touched (PURGE_MESSAGE checks the
   * status again, atomically, for each).
   */
  async purge(filter: PurgeFilter & { dryRun: boolean }): Promise<{ count: number }> {
    const statuses = filter.statuses?.length ? filter.statuses : (['held'] as const);
    const found = await findPurgeable(this.#deps.holds, this.#deps.queue, this.#deps.store, {
      credential: filter.credential,
      statuses,
    });
    if (filter.dryRun) return { count: found.size };
    let count = 0;
    for (const [id, credential] of found) {
      if (await this.#deps.holds.purgeMessage(id, credential, statuses)) count += 1;
    }
    const target = filter.credential ?? '*';
    const detail = `${count} message(s) purged; status ${statuses.join(',')}`;
    this.#deps.logger.warn(
      { event: LogEvent.messagesPurged, credential: filter.credential ?? null, count, statuses },
      'messages purged',
    );
    await this.audit('purge', target, detail);
    return { count };
  }

  /** The kill switch: every worker stops starting deliveries; acceptance goes on. */
  async pause(reason = ''): Promise<void> {
    const at = new Date().toISOString();
    await this.#deps.queue.pause();
    await this.#deps.holds.setPauseInfo({ reason, at, actor: this.#deps.actor });
    this.#deps.logger.warn({ event: LogEvent.deliveryPaused, reason }, 'delivery paused');
    await this.audit('pause', 'delivery', reason);
  }

  async resume(): Promise<void> {
    await this.#deps.queue.resume();
    await this.#deps.holds.setPauseInfo(undefined);
    this.#deps.logger.info({ event: LogEvent.deliveryResumed }, 'delivery resumed');
    await this.audit('resume', 'delivery', '');
  }

  async pauseState(): Promise<PauseState> {
    const [paused, info] = await Promise.all([
      this.#deps.queue.isPaused(),
      this.#deps.holds.pauseInfo(),
    ]);
    return paused ? { paused, ...info } : { paused };
  }

  /** Scrape-time counts for the containment gauges (SCARDs and one small hash). */
  async containmentCounts(): Promise<{
    credentialsHeld: number;
    messagesHeld: number;
    paused: boolean;
    holdsTotal: Record<'volume' | 'manual', number>;
  }> {
    const holds = this.#deps.holds;
    const [credentialsHeld, messagesHeld, paused, holdsTotal] = await Promise.all([
      holds.credentialsHeld(),
      holds.heldCount(),
      this.#deps.queue.isPaused(),
      holds.holdsTotal(),
    ]);
    return { credentialsHeld, messagesHeld, paused, holdsTotal };
  }
}
