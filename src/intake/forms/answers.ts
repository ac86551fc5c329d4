import type { FastifyReply, FastifyRequest } from 'fastify';
import { htmlText } from '../../message/html-text.js';
import type { Form } from '../../security/forms/form-store.js';
import { errorBody } from '../http/errors.js';

/** A form error: its status, the contract's code and a message safe for the visitor. */
export interface FormError {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number | undefined;
}

const formError = (status: number, code: string, message: string): FormError => ({
  status,
  code,
  message,
});

/** The form endpoint's own answers (CONTRACT §Lead forms); door denials map in submit.ts. */
export const FormErrors = {
  notFound: formError(404, 'form_not_found', 'no such form'),
  originNotAllowed: formError(
    403,
    'origin_not_allowed',
    'this page is not allowed to post to this form',
  ),
  challengeFailed: formError(
    403,
    'challenge_failed',
    'the proof-of-work solution is missing, invalid, expired or already used',
  ),
  unsupportedMediaType: formError(
    415,
    'unsupported_media_type',
    'post the form as urlencoded, multipart/form-data or JSON',
  ),
};

export function isJsonRequest(request: FastifyRequest): boolean {
  return /^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '');
}

/** A browser's plain form navigation (it accepts HTML) gets a page, anything else JSON. */
function wantsPage(request: FastifyRequest): boolean {
  return !isJsonRequest(request) && /text\/html/i.test(request.headers.accept ?? '');
}

function page(title: string, text: string): string {
  // No scripts, no styles: nothing here needs them, and the relay's CSP forbids inline ones.
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${htmlText(title)}</title></head>\n<body><h1>${htmlText(title)}</h1><p>${htmlText(text)}</p></body></html>\n`;
}

export function sendFormError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: FormError,
): FastifyReply {
  if (error.retryAfterSeconds !== undefined) {
    reply.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  reply.code(error.status);
  if (wantsPage(request)) {
    return reply.type('text/html; charset=utf-8').send(page('Not sent', error.message));
  }
  return reply.send(errorBody(error.code, error.message));
}

/**
 * The success answer (CONTRACT §Lead forms), the same for a quarantined post: 202 JSON
 * for JSON requests, else a 303 to the form's own `--redirect` (never a URL from the
 * request: no open redirect), else a short thank-you page.
 */
export function sendFormSuccess(
  request: FastifyRequest,
  reply: FastifyReply,
  form: Form,
  id: string,
): FastifyReply {
  if (isJsonRequest(request)) return reply.code(202).send({ id, status: 'queued' });
  if (form.redirect) return reply.code(303).header('Location', form.redirect).send();
  return reply
    .code(200)
    .type('text/html; charset=utf-8')
    .send(page('Thank you', 'Your message has been sent.'));
}
