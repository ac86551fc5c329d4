import type { Redis } from 'ioredis';
import type { Submission } from '../../src/message/types.js';
import type { MailQueue } from '../../src/queue/mail-queue.js';
import type { MessageStore } from '../../src/queue/message-store.js';
import { Staging } from '../../src/queue/staging.js';
import type { Keys } from '../../src/redis/keys.js';

/** What each built message ends as, by share of the total (the rest stays queued). */
export interface HistoryMix {
  delivered: number;
  bounced: number;
  deferred: number;
}

export const DEFAULT_MIX: HistoryMix = { delivered: 0.9, bounced: 0.04, deferred: 0.03 };

/**
 * Build history quickly through the real write path: the real stage script (Staging,
 * with a queue stand-in under which it writes no BullMQ job — nothing here will be
 * delivered) and the real outcome script (MessageStore.recordOutcome), with the body
 * freed on delivery as the worker does. Up to `window` messages in flight at once, so
 * ioredis pipelines them. Recipient `r<n % recipients>@example.net`, so a recipient search
 * has matches at every size. Returns up to 1000 ids of each final status (the first built).
 */
export async function buildHistory(
  redis: Redis,
  keys: Keys,
  store: MessageStore,
  count: number,
  options: {
    mix?: HistoryMix;
    recipients?: number;
    window?: number;
    bodyBytes?: number;
    /** Fields as a shop's mail has them (REALISTIC_FIELDS) instead of short ones. */
    realistic?: boolean;
  } = {},
): Promise<Record<string, string[]>> {
  const mix = options.mix ?? DEFAULT_MIX;
  const recipients = options.recipients ?? 1000;
  const window = options.window ?? 1000;
  const body = Buffer.from(`Subject: history\r\n\r\n${'x'.repeat(options.bodyBytes ?? 200)}\r\n`);
  // The stage script writes a delivery job unless the job key it is given already exists
  // (BullMQ's duplicate case). The stand-in names one key that does, for every message,
  // so no job is written; the script's other BullMQ writes go to a few scratch keys.
  const scratch = (name: string) => `${keys.bodySpool('history-no-job')}:${name}`;
  await redis.set(scratch('job'), 'history: no delivery job');
  const noJob = {
    jobKey: () => scratch('job'),
    queueKeys: () => ['wait', 'meta', 'id', 'active', 'events', 'marker'].map(scratch),
    jobArgs: () => ['deliver', '{}'],
    writeDurably: (write: () => Promise<unknown>) => write(),
  } as unknown as MailQueue;
  const staging = new Staging(redis, keys, noJob, { holdAbove: 0, holdMax: 10_000 });
  const owner = { id: 'cred-history', name: 'history' };
  const byStatus: Record<string, string[]> = {};
  const one = async (n: number) => {
    const fields = options.realistic
      ? REALISTIC_FIELDS(n % recipients, n)
      : SHORT_FIELDS(n % recipients, n);
    const to = fields.to;
    const submission: Submission = {
      protocol: 'http',
      envelope: { from: fields.from, to: [to] },
      raw: body,
      headerSenders: [fields.from],
      fromHeader: fields.fromHeader,
      subject: fields.subject,
      messageIdHeader: fields.messageId,
    };
    const staged = await staging.stage(owner, submission);
    if (!staged) throw new Error('history message refused');
    const status = pick(n, count, mix);
    const ids = byStatus[status] ?? [];
    if (ids.length < 1000) ids.push(staged.id);
    byStatus[status] = ids;
    if (status === 'queued') return;
    const detail =
      status === 'delivered' ? '250 2.0.0 ok' : `${status === 'bounced' ? 550 : 451} no`;
    await store.recordOutcome(
      staged.id,
      [{ address: to, status, detail }],
      [{ type: status, detail }],
      true,
    );
    if (status === 'delivered') await store.deleteBody(staged.id);
  };
  const inFlight = new Set<Promise<void>>();
  for (let n = 0; n < count; n++) {
    const p = one(n).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return byStatus;
}

interface HistoryFields {
  from: string;
  to: string;
  fromHeader: string;
  subject: string;
  messageId: string;
}

/** Short fields: recipient `r<k>@example.net`, so a recipient search matches at every size. */
const SHORT_FIELDS = (k: number, n: number): HistoryFields => ({
  from: 'shop@example.com',
  to: `r${k}@example.net`,
  fromHeader: 'Shop <shop@example.com>',
  subject: `history ${n}`,
  messageId: `<h${n}@example.com>`,
});

/** A shop's order mail: named From:, an 80-byte subject, a generated Message-ID. */
const REALISTIC_FIELDS = (k: number, n: number): HistoryFields => ({
  from: 'orders@acme-shop.example',
  to: `firstname.lastname${k}@customer-mail.example`,
  fromHeader: 'Acme Shop Orders <orders@acme-shop.example>',
  subject:
    `Your order #${String(100000 + n)} has shipped: tracking and delivery details inside`.slice(
      0,
      80,
    ),
  messageId: `<${(1796310000000 + n).toString(36)}.${String(n).padStart(12, '0')}@acme-shop.example>`,
});

/** Spread the mix evenly over the sequence (deterministic, so every size has each status). */
function pick(
  n: number,
  count: number,
  mix: HistoryMix,
): 'delivered' | 'bounced' | 'deferred' | 'queued' {
  const f = ((n * 7919) % count) / count;
  if (f < mix.delivered) return 'delivered';
  if (f < mix.delivered + mix.bounced) return 'bounced';
  if (f < mix.delivered + mix.bounced + mix.deferred) return 'deferred';
  return 'queued';
}
