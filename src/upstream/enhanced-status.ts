/**
 * RFC 3463 enhanced status codes read from an upstream's reply line (`550 5.1.1 <a@b>:
 * user unknown`, or the multi-line `550-5.1.1 …`). Pure; smtp-replies.ts decides the
 * outcome, this says what kind of refusal a bounce was.
 */

/** A reply code, a space or hyphen, then class.subject.detail (RFC 3463 §2: 1–3 digits each). */
const ENHANCED_RE = /^\s*([245])\d\d[ -]+([245])\.(\d{1,3})\.(\d{1,3})(?!\d)/;

export interface EnhancedStatus {
  klass: number;
  subject: number;
  detail: number;
}

/** The enhanced status of a reply line, when it carries one that agrees with its reply code. */
export function enhancedStatus(reply: string): EnhancedStatus | undefined {
  const match = ENHANCED_RE.exec(reply);
  if (!match || match[1] !== match[2]) return undefined;
  return { klass: Number(match[2]), subject: Number(match[3]), detail: Number(match[4]) };
}

/**
 * A permanent refusal that says the address itself is bad (CONTRACT §Suppressions):
 * 5.1.x (bad mailbox, bad domain, bad syntax, moved) or 5.2.1 (mailbox disabled). Other
 * permanent refusals (5.2.2 mailbox full, 5.7.x policy, 5.3.4 too big) say nothing lasting
 * about the address, so they never suppress it.
 */
export function isAddressBounce(reply: string): boolean {
  const status = enhancedStatus(reply);
  if (status?.klass !== 5) return false;
  return status.subject === 1 || (status.subject === 2 && status.detail === 1);
}
