import type { FastifyRequest } from 'fastify';
import { LogEvent } from '../../observability/events.js';
import type { FormVerdict } from '../../observability/metrics.js';
import type { FormQuarantine } from '../../queue/form-quarantine.js';
import { type Form, formOwner } from '../../security/forms/form-store.js';
import type { Denial } from '../../security/verdict.js';
import { type AcceptDeps, acceptSubmission, type Principal } from '../accept.js';
import { clientIp } from '../http/client-ip.js';
import { type FormError, FormErrors } from './answers.js';
import { composeLead } from './compose-lead.js';
import { type FormPost, fieldValue } from './fields.js';
import type { FormPow } from './pow.js';

export interface SubmitDeps {
  accept: AcceptDeps;
  quarantine: FormQuarantine;
  pow: FormPow;
  /** POSTWARDEN_FORMS_FROM: the sender unless the form has `--from`. */
  formsFrom: string;
  onVerdict?: ((form: string, verdict: FormVerdict) => void) | undefined;
}

export type SubmitResult = { ok: true; id: string } | { ok: false; error: FormError };

/** The few denials the door can give a form post, in the form's answers. */
const DENIAL_STATUS: Partial<Record<Denial['code'], number>> = {
  rate_limited: 429,
  too_large: 413,
  queue_unavailable: 503,
};

function denialError(denial: Denial): FormError {
  return {
    status: DENIAL_STATUS[denial.code] ?? 400,
    code: denial.code,
    message: denial.message,
    retryAfterSeconds: denial.retryAfterSeconds,
  };
}

/**
 * The form as the door's Principal (ARCHITECTURE sketch: `form:NAME`): its sender is the
 * only one granted, it has no rate of its own (the per-address one is checked here).
 */
function formPrincipal(form: Form, from: string, ip: string): Principal {
  return {
    form: true,
    credential: {
      // A form is its own principal (`form:NAME`): no secret, so no generation to re-check.
      id: formOwner(form.name),
      generation: 0,
      name: formOwner(form.name),
      allowFrom: [from.toLowerCase()],
      // Its fixed recipients are its only grant: defence in depth behind the composer.
      allowTo: form.to.map((address) => address.toLowerCase()),
      ratePerMinute: undefined,
      maxRecipients: undefined,
      createdAt: form.createdAt,
      revoked: false,
    },
    ip,
  };
}

const queueDown: FormError = {
  status: 503,
  code: 'queue_unavailable',
  message: 'queue unavailable, try again later',
};

/**
 * One form post, as a list of steps (CONTRACT §Lead forms): per-address rate →
 * proof-of-work → compose → honeypot? keep in quarantine : the one door. Success comes
 * back only after the durable write (queue or quarantine).
 */
export async function submitFormPost(
  deps: SubmitDeps,
  request: FastifyRequest,
  form: Form,
  post: FormPost,
): Promise<SubmitResult> {
  const result = await decide(deps, request, form, post);
  const verdict: FormVerdict = !result.ok
    ? 'refused'
    : result.quarantined
      ? 'quarantined'
      : 'accepted';
  deps.onVerdict?.(form.name, verdict);
  // Names, codes and the address only: never a field of the post (visitor content).
  if (!result.ok) {
    request.log.info(
      {
        event: LogEvent.formRefused,
        form: form.name,
        code: result.error.code,
        ip: clientIp(request),
      },
      'form post refused',
    );
  } else if (result.quarantined) {
    request.log.info(
      { event: LogEvent.formQuarantined, form: form.name, id: result.id, ip: clientIp(request) },
      'form post quarantined (honeypot)',
    );
  }
  return result.ok ? { ok: true, id: result.id } : result;
}

async function decide(
  deps: SubmitDeps,
  request: FastifyRequest,
  form: Form,
  post: FormPost,
): Promise<{ ok: true; id: string; quarantined: boolean } | { ok: false; error: FormError }> {
  const ip = clientIp(request);
  const limited = await deps.accept.rateLimiter.consume(
    `form:${form.id}:${ip}`,
    form.ratePerMinute,
  );
  if (limited) return { ok: false, error: denialError(limited) };
  if (form.pow && (await deps.pow.verify(form.id, fieldValue(post.fields, 'altcha'))) !== 'ok') {
    return { ok: false, error: FormErrors.challengeFailed };
  }
  const from = form.from ?? deps.formsFrom;
  const submission = await composeLead(form, from, post);
  if (fieldValue(post.fields, '_gotcha') !== '') {
    if (!deps.accept.durability.state.ok) return { ok: false, error: queueDown };
    try {
      const id = await deps.quarantine.keep(formOwner(form.name), form.name, submission);
      return { ok: true, id, quarantined: true };
    } catch {
      return { ok: false, error: queueDown };
    }
  }
  const accepted = await acceptSubmission(deps.accept, formPrincipal(form, from, ip), submission);
  if (!accepted.accepted) return { ok: false, error: denialError(accepted.denial) };
  return { ok: true, id: accepted.id, quarantined: false };
}
