import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../views/html.js';
import { layout, type PageContext } from '../views/layout.js';

export function pageContext(request: FastifyRequest, section: string): PageContext {
  return { csrf: request.adminSession?.csrf, section };
}

export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page.value);
}

/** POST → redirect → GET, so a reload never repeats an action. */
export function redirectTo(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('Location', location).send();
}

/**
 * Outcomes shown after a redirect are fixed texts picked by a code in the query string —
 * never free text from the URL, so a crafted link cannot put words on the page.
 */
const FLASHES: Readonly<Record<string, { kind: 'ok' | 'error'; text: string }>> = {
  retried: { kind: 'ok', text: 'The message was queued again for delivery.' },
  not_retried: { kind: 'error', text: 'Nothing to retry: the message is not failed (or is gone).' },
  unbanned: { kind: 'ok', text: 'The address was unbanned.' },
  not_banned: { kind: 'ok', text: 'That address was not banned.' },
  revoked: { kind: 'ok', text: 'The credential was revoked; its secret stopped working.' },
  not_found: { kind: 'error', text: 'Not found.' },
  form_removed: { kind: 'ok', text: 'The form was removed; its id now answers 404.' },
  released: { kind: 'ok', text: 'The form post was released and queued for delivery.' },
};

export function flashOf(query: unknown): { kind: 'ok' | 'error'; text: string } | undefined {
  const code = (query as Record<string, unknown> | undefined)?.flash;
  return typeof code === 'string' ? FLASHES[code] : undefined;
}

export function notFoundPage(request: FastifyRequest): SafeHtml {
  return layout(
    'Not found',
    pageContext(request, ''),
    html`<p>There is nothing here.</p><p><a href="/admin">Back to the overview</a></p>`,
  );
}
