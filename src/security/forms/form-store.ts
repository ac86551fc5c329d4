import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { PostwardenError } from '../../errors.js';
import { isValidAddress } from '../../message/addresses.js';
import type { Keys } from '../../redis/keys.js';
import { isValidCredentialName } from '../credentials/record.js';

/** A lead form (CONTRACT §Lead forms). Its id is public: it goes into the page's HTML. */
export interface Form {
  id: string;
  name: string;
  to: string[];
  origins: string[];
  /** Undefined: POSTWARDEN_FORMS_FROM. */
  from: string | undefined;
  subject: string;
  redirect: string | undefined;
  ratePerMinute: number;
  pow: boolean;
  createdAt: string;
}

export interface NewForm {
  name: string;
  to: string[];
  origins: string[];
  from?: string | undefined;
  subject?: string | undefined;
  redirect?: string | undefined;
  ratePerMinute?: number | undefined;
  pow?: boolean | undefined;
}

export const DEFAULT_FORM_RATE = 10;
const ID_RE = /^f_[A-Za-z0-9_-]{16}$/;

/** The owner of a form's messages: a Principal of its own, never a credential's name. */
export function formOwner(name: string): string {
  return `form:${name}`;
}

export function isFormId(text: string): boolean {
  return ID_RE.test(text);
}

/** `https://www.example.com` exactly as a browser sends it in `Origin` (no path, no slash). */
export function normalizeOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

function invalid(code: string, message: string): never {
  throw new PostwardenError(code, message);
}

function checkNewForm(input: NewForm): void {
  if (!isValidCredentialName(input.name)) {
    invalid(
      'invalid_name',
      'form names are 1-64 characters of letters, digits, dot, dash and underscore',
    );
  }
  if (input.to.length === 0) invalid('invalid_to', 'at least one --to address is required');
  for (const address of input.to) {
    if (!isValidAddress(address)) invalid('invalid_to', `"${address}" is not an email address`);
  }
  if (input.origins.length === 0) invalid('invalid_origin', 'at least one --origin is required');
  for (const origin of input.origins) {
    if (normalizeOrigin(origin) === undefined) {
      invalid('invalid_origin', `"${origin}" is not an origin; write https://www.example.com`);
    }
  }
  if (input.from !== undefined && !isValidAddress(input.from)) {
    invalid('invalid_from', `"${input.from}" is not an email address`);
  }
  if (
    input.subject !== undefined &&
    (/[\r\n\0]/.test(input.subject) || input.subject.length > 200)
  ) {
    invalid('invalid_subject', 'the subject is one line of at most 200 characters');
  }
  if (input.redirect !== undefined && normalizeOrigin(input.redirect) === undefined) {
    invalid('invalid_redirect', `"${input.redirect}" is not an http(s) URL`);
  }
  const rate = input.ratePerMinute;
  if (rate !== undefined && (!Number.isInteger(rate) || rate < 1 || rate > 100_000)) {
    invalid('invalid_rate', '--rate is N/min with N from 1 to 100000');
  }
}

function toForm(hash: Record<string, string>): Form | undefined {
  if (!hash.id || !hash.name) return undefined;
  return {
    id: hash.id,
    name: hash.name,
    to: JSON.parse(hash.to ?? '[]') as string[],
    origins: JSON.parse(hash.origins ?? '[]') as string[],
    from: hash.from || undefined,
    subject: hash.subject ?? `New submission: ${hash.name}`,
    redirect: hash.redirect || undefined,
    ratePerMinute: Number(hash.rate ?? DEFAULT_FORM_RATE),
    pow: hash.pow === '1',
    createdAt: hash.createdAt ?? '',
  };
}

/**
 * Lead forms in Redis: one hash per public id (the submission path reads that one key)
 * and one name → id hash for the operator's commands.
 */
export class FormStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async create(input: NewForm): Promise<Form> {
    checkNewForm(input);
    const form: Form = {
      id: `f_${randomBytes(12).toString('base64url')}`,
      name: input.name,
      to: input.to,
      origins: input.origins.map((origin) => normalizeOrigin(origin) as string),
      from: input.from,
      subject: input.subject ?? `New submission: ${input.name}`,
      redirect: input.redirect,
      ratePerMinute: input.ratePerMinute ?? DEFAULT_FORM_RATE,
      pow: input.pow === true,
      createdAt: new Date().toISOString(),
    };
    // HSETNX claims the name, so two concurrent creates cannot both win it.
    const claimed = await this.redis.hsetnx(this.keys.formIds(), form.name, form.id);
    if (claimed === 0) invalid('exists', `form ${form.name} already exists`);
    await this.redis.hset(this.keys.form(form.id), {
      id: form.id,
      name: form.name,
      to: JSON.stringify(form.to),
      origins: JSON.stringify(form.origins),
      from: form.from ?? '',
      subject: form.subject,
      redirect: form.redirect ?? '',
      rate: String(form.ratePerMinute),
      pow: form.pow ? '1' : '0',
      createdAt: form.createdAt,
    });
    return form;
  }

  /** One key read: the submission path's lookup. */
  async get(id: string): Promise<Form | undefined> {
    if (!isFormId(id)) return undefined;
    return toForm(await this.redis.hgetall(this.keys.form(id)));
  }

  async list(): Promise<Form[]> {
    const ids = await this.redis.hgetall(this.keys.formIds());
    const names = Object.keys(ids).sort();
    const forms = await Promise.all(names.map((name) => this.get(ids[name] ?? '')));
    return forms.filter((form): form is Form => form !== undefined);
  }

  /** Remove by name: its id answers 404 from now on. False for an unknown name. */
  async remove(name: string): Promise<boolean> {
    const id = await this.redis.hget(this.keys.formIds(), name);
    if (!id) return false;
    await this.redis.multi().hdel(this.keys.formIds(), name).del(this.keys.form(id)).exec();
    return true;
  }
}
