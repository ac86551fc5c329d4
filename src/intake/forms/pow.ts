import { randomBytes } from 'node:crypto';
import {
  type Challenge,
  createChallenge,
  randomInt,
  type Solution,
  verifySolution,
} from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../../errors.js';
import type { Keys } from '../../redis/keys.js';

/** How long a challenge may be solved and spent. */
const CHALLENGE_TTL_SECONDS = 5 * 60;
/**
 * Work per challenge: the counter the browser must find (each try is ALGORITHM_COST
 * hashes). About a second in a browser worker; a bot pays it for every post.
 */
const COUNTER_RANGE: [number, number] = [20_000, 60_000];
const ALGORITHM = 'SHA-256';
const ALGORITHM_COST = 10;

export type PowVerdict = 'ok' | 'failed';

interface Payload {
  challenge: Challenge;
  solution: Solution;
}

function parsePayload(text: unknown): Payload | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 4096) return undefined;
  try {
    const value = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Partial<Payload>;
    const signature = value.challenge?.signature;
    if (!value.challenge?.parameters || typeof signature !== 'string' || !value.solution) {
      return undefined;
    }
    return value as Payload;
  } catch {
    return undefined;
  }
}

/**
 * ALTCHA proof-of-work for `--pow` forms (CONTRACT §Lead forms), with altcha-lib doing
 * the scheme. Challenges are HMAC-signed with a secret every intake shares (kept in
 * Redis), so any intake can check any challenge; a solution is spent with SET NX under
 * its challenge's signature, kept until the challenge expires, so each works once.
 */
export class FormPow {
  #secret: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async challenge(formId: string): Promise<Challenge> {
    return createChallenge({
      algorithm: ALGORITHM,
      cost: ALGORITHM_COST,
      counter: randomInt(...COUNTER_RANGE),
      deriveKey,
      data: { form: formId },
      expiresAt: Math.floor(Date.now() / 1000) + CHALLENGE_TTL_SECONDS,
      hmacSignatureSecret: await this.#hmacSecret(),
    });
  }

  /** 'ok' once per valid, unexpired solution of a challenge made for this form. */
  async verify(formId: string, field: unknown): Promise<PowVerdict> {
    const payload = parsePayload(field);
    if (!payload || payload.challenge.parameters.data?.form !== formId) return 'failed';
    let verified: boolean;
    try {
      const result = await verifySolution({
        challenge: payload.challenge,
        solution: payload.solution,
        deriveKey,
        hmacSignatureSecret: await this.#hmacSecret(),
      });
      verified = result.verified;
    } catch {
      return 'failed';
    }
    if (!verified) return 'failed';
    const expiresAt = payload.challenge.parameters.expiresAt ?? 0;
    const ttl = Math.max(1, Math.ceil(expiresAt - Date.now() / 1000));
    const signature = payload.challenge.signature as string;
    const spent = await this.redis
      .set(this.keys.formPowSpent(signature.slice(0, 128)), '1', 'EX', ttl, 'NX')
      .catch((error: unknown) => {
        throw new QueueUnavailableError('proof-of-work store unavailable', { cause: error });
      });
    return spent === 'OK' ? 'ok' : 'failed';
  }

  /** The shared secret: made once by whichever intake asks first (SET NX), then cached. */
  async #hmacSecret(): Promise<string> {
    if (this.#secret) return this.#secret;
    const key = this.keys.formPowSecret();
    await this.redis.set(key, randomBytes(32).toString('hex'), 'NX');
    const secret = await this.redis.get(key);
    if (!secret) throw new QueueUnavailableError('proof-of-work secret unavailable');
    this.#secret = secret;
    return secret;
  }
}
