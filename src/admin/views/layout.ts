import type { MessageStatus } from '../../message/types.js';
import { html, query, type SafeHtml } from './html.js';

export interface PageContext {
  /** The session's CSRF token, put into every form; undefined on the login page. */
  csrf: string | undefined;
  /** Which nav entry is current. */
  section: string;
}

const NAV: Array<[section: string, href: string, label: string]> = [
  ['overview', '/admin', 'Overview'],
  ['messages', '/admin/messages', 'Messages'],
  ['failed', '/admin/failed', 'Failed'],
  ['captured', '/admin/captured', 'Captured'],
  ['bans', '/admin/bans', 'Bans'],
  ['attacks', '/admin/attacks', 'Attacks'],
  ['credentials', '/admin/credentials', 'Credentials'],
  ['holds', '/admin/holds', 'Holds'],
  ['audit', '/admin/audit', 'Audit'],
  ['forms', '/admin/forms', 'Forms'],
  ['suppressions', '/admin/suppressions', 'Suppressions'],
  ['webhooks', '/admin/webhooks', 'Webhooks'],
];

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(context: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${context.csrf ?? ''}">`;
}

/** A POST form with its CSRF token; `body` is the visible part. */
export function postForm(
  context: PageContext,
  action: string,
  body: SafeHtml,
  className = 'inline',
): SafeHtml {
  return html`<form method="post" action="${action}" class="${className}">${csrfField(context)}${body}</form>`;
}

function nav(context: PageContext): SafeHtml {
  if (!context.csrf) return html``;
  const links = NAV.map(
    ([section, href, label]) =>
      html`<a href="${href}"${section === context.section ? html` aria-current="page"` : ''}>${label}</a>`,
  );
  return html`<nav>${links}${postForm(context, '/admin/logout', html`<button type="submit" class="link">Log out</button>`, 'logout')}</nav>`;
}

/** The whole document. Scripts and styles come only from /admin/static (CSP: 'self'). */
export function layout(title: string, context: PageContext, main: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Postwarden admin</title>
<link rel="stylesheet" href="/admin/static/admin.css">
<script src="/admin/static/admin.js" defer></script>
</head>
<body data-section="${context.section}">
<header><span class="brand">Postwarden</span>${nav(context)}</header>
<main>
<h1>${title}</h1>
${main}
</main>
</body>
</html>
`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="status status-${status}">${status}</span>`;
}

export function notice(kind: 'ok' | 'error', text: string | undefined): SafeHtml {
  return text ? html`<p class="notice notice-${kind}" role="status">${text}</p>` : html``;
}

/** Newer/older links around the page number; `params` keep the search across pages. */
export function pager(
  path: string,
  page: number,
  hasMore: boolean,
  params: Record<string, string | undefined> = {},
): SafeHtml {
  const prev =
    page > 1
      ? html`<a rel="prev" href="${path}${query({ ...params, page: page - 1 })}">← Newer</a>`
      : html``;
  const next = hasMore
    ? html`<a rel="next" href="${path}${query({ ...params, page: page + 1 })}">Older →</a>`
    : html``;
  return html`<p class="pager">${prev} <span>Page ${page}</span> ${next}</p>`;
}

/** Every message status, in the order the pages list them (filters, overview tiles). */
export const MESSAGE_STATUSES: readonly MessageStatus[] = [
  'queued',
  'deferred',
  'held',
  'delivered',
  'bounced',
  'expired',
  'suppressed',
  'partial',
  'purged',
];
