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
/** Flash codes whose text reports something that did not happen. */
const ERROR_FLASHES: ReadonlySet<string> = new Set(['not_retried', 'not_found', 'bad_address']);
const FLASHES: Readonly<Record<string, string>> = {
  retried: 'The message was queued again for delivery.',
  not_retried: 'Nothing to retry: the message is not failed (or is gone).',
  unbanned: 'The address was unbanned.',
  not_banned: 'That address was not banned.',
  revoked: 'The credential was revoked; its secret stopped working.',
  not_found: 'Not found.',
  held: 'The credential is on hold: its mail is kept, not delivered.',
  already_held: 'That credential was already on hold.',
  released: 'Released: its held messages are queued for delivery again.',
  not_held: 'That credential was not on hold.',
  purged: 'The held messages were purged; none of them will be delivered.',
  paused: 'All delivery is paused. Acceptance goes on.',
  resumed: 'Delivery resumed.',
  form_removed: 'The form was removed; its id now answers 404.',
  form_released: 'The form post was released and queued for delivery.',
  suppression_added: 'The address is suppressed: that credential sends it nothing more.',
  already_suppressed: 'That address was already suppressed for that credential.',
  suppression_removed: 'The address was removed from the list; it is sent to again.',
  bad_address: 'That is not a valid address.',
  webhook_replayed: 'The event was queued again for that endpoint.',
};

export function flashOf(query: unknown): { kind: 'ok' | 'error'; text: string } | undefined {
  const code = (query as Record<string, unknown> | undefined)?.flash;
  const text = typeof code === 'string' ? FLASHES[code] : undefined;
  return text === undefined
    ? undefined
    : { kind: ERROR_FLASHES.has(code as string) ? 'error' : 'ok', text };
}

export function notFoundPage(request: FastifyRequest): SafeHtml {
  return layout(
    'Not found',
    pageContext(request, ''),
    html`<p>There is nothing here.</p><p><a href="/admin">Back to the overview</a></p>`,
  );
}
