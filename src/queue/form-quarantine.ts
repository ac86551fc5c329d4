import type { Redis } from 'ioredis';
import { newMessageId } from '../message/ids.js';
import type { Submission } from '../message/types.js';
import type { Keys } from '../redis/keys.js';
import type { Staging } from './staging.js';

/** A quarantined form post as the CLI and the admin page list it (no body). */
export interface QuarantinedPost {
  id: string;
  /** The owner it is staged under on release: `form:NAME`. */
  owner: string;
  form: string;
  from: string;
  subject: string;
  recipients: string[];
  createdAt: string;
  size: number;
}

export type ReleaseResult =
  | { released: true; messageId: string }
  | { released: false; reason: 'not_found' };

const LIST_LIMIT = 200;

/**
 * Form posts the honeypot caught (CONTRACT §Lead forms): answered as a success, kept
 * durably instead of delivered, listed, and released into the queue at most once.
 * They are not messages yet, so the worker never sees them; retention deletes them by
 * age like final messages (deleteOlderThan, the index is scored by createdAt).
 */
export class FormQuarantine {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Keep one post; resolves once Redis has it (the success answer waits for this). */
  async keep(owner: string, form: string, submission: Submission): Promise<string> {
    const id = newMessageId();
    const now = Date.now();
    await this.redis
      .multi()
      .hset(this.keys.formSpam(id), {
        id,
        owner,
        form,
        envelopeFrom: submission.envelope.from,
        recipients: JSON.stringify(submission.envelope.to),
        from: submission.fromHeader,
        subject: submission.subject,
        messageId: submission.messageIdHeader,
        createdAt: String(now),
        raw: submission.raw,
      })
      .zadd(this.keys.formSpamIndex(), now, id)
      .exec()
      .then((replies) => {
        const failed = replies?.find(([error]) => error);
        if (!replies || failed) throw failed?.[0] ?? new Error('quarantine write aborted');
      });
    return id;
  }

  /**
   * Retention (CONTRACT §Retention): delete up to `limit` posts created before `cutoffMs`,
   * each post with its index entry in one MULTI. Returns how many went.
   */
  async deleteOlderThan(cutoffMs: number, limit: number): Promise<number> {
    const ids = await this.redis.zrangebyscore(
      this.keys.formSpamIndex(),
      '-inf',
      cutoffMs,
      'LIMIT',
      0,
      limit,
    );
    if (ids.length === 0) return 0;
    const multi = this.redis.multi();
    for (const id of ids) multi.del(this.keys.formSpam(id)).zrem(this.keys.formSpamIndex(), id);
    await multi.exec();
    return ids.length;
  }

  /** The newest posts first, at most LIST_LIMIT (one ZRANGE and one HMGET each). */
  async list(): Promise<QuarantinedPost[]> {
    const ids = await this.redis.zrevrange(this.keys.formSpamIndex(), 0, LIST_LIMIT - 1);
    const fields = ['id', 'owner', 'form', 'from', 'subject', 'recipients', 'createdAt'] as const;
    const pipeline = this.redis.pipeline();
    for (const id of ids) {
      pipeline.hmget(this.keys.formSpam(id), ...fields);
      pipeline.hstrlen(this.keys.formSpam(id), 'raw');
    }
    const replies = (await pipeline.exec()) ?? [];
    const posts: QuarantinedPost[] = [];
    for (let i = 0; i < ids.length; i++) {
      const values = replies[2 * i]?.[1] as (string | null)[] | undefined;
      if (!values?.[0]) continue;
      const [id, owner, form, from, subject, recipients, createdAt] = values;
      posts.push({
        id: id as string,
        owner: owner ?? '',
        form: form ?? '',
        from: from ?? '',
        subject: subject ?? '',
        recipients: JSON.parse(recipients ?? '[]') as string[],
        createdAt: new Date(Number(createdAt)).toISOString(),
        size: Number(replies[2 * i + 1]?.[1] ?? 0),
      });
    }
    return posts;
  }

  /**
   * Deliver one post: its index entry is claimed first (ZREM answers 1 to one caller
   * only), so two releases of one id stage it once. If staging fails, the claim is given
   * back and the post stays.
   */
  async release(id: string, staging: Staging): Promise<ReleaseResult> {
    const key = this.keys.formSpam(id);
    const [hash, raw] = await Promise.all([
      this.redis.hgetall(key),
      this.redis.hgetBuffer(key, 'raw'),
    ]);
    if (!hash.id || !raw) return { released: false, reason: 'not_found' };
    const claimed = await this.redis.zrem(this.keys.formSpamIndex(), id);
    if (claimed === 0) return { released: false, reason: 'not_found' };
    const submission: Submission = {
      protocol: 'http',
      envelope: {
        from: hash.envelopeFrom ?? '',
        to: JSON.parse(hash.recipients ?? '[]') as string[],
      },
      raw,
      headerSenders: [hash.envelopeFrom ?? ''],
      fromHeader: hash.from ?? '',
      subject: hash.subject ?? '',
      messageIdHeader: hash.messageId ?? '',
    };
    try {
      // A form is its own principal: `form:NAME` is both its owner id and its name.
      const owner = hash.owner ?? '';
      const staged = await staging.stage({ id: owner, name: owner }, submission);
      if (!staged)
        throw new Error(`${owner} is on hold and holds the most it may; release it first`);
      await this.redis.del(key);
      return { released: true, messageId: staged.id };
    } catch (error) {
      await this.redis
        .zadd(this.keys.formSpamIndex(), Number(hash.createdAt ?? Date.now()), id)
        .catch(() => {});
      throw error;
    }
  }
}
