import type { Suppression } from '../../queue/operator.js';
import { html, query, type SafeHtml } from './html.js';
import { formatTime, layout, notice, type PageContext, postForm } from './layout.js';

export interface SuppressionsPageData {
  entries: Suppression[];
  /** The credential filter as typed ('' = every list). */
  credential: string;
  /** The cursor of the next page, if there is one. */
  next?: string | undefined;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

function entryRow(context: PageContext, entry: Suppression): SafeHtml {
  return html`<tr>
<td><code>${entry.credential}</code></td>
<td>${entry.address}</td>
<td>${entry.source}</td>
<td>${entry.reason}</td>
<td>${formatTime(entry.at)}</td>
<td>${postForm(
    context,
    '/admin/suppressions/remove',
    html`<input type="hidden" name="owner" value="${entry.owner}"><input type="hidden" name="credential" value="${entry.credential}"><input type="hidden" name="address" value="${entry.address}"><button type="submit" class="danger">Remove</button>`,
  )}</td>
</tr>`;
}

/**
 * Suppression lists (CONTRACT §Suppressions, §Admin page): every list or one credential's,
 * a page at a time, with remove, and a manual add. Addresses and bounce replies come from
 * outside (recipients, upstream replies): `html` escapes every one.
 */
export function renderSuppressions(context: PageContext, data: SuppressionsPageData): SafeHtml {
  const rows = data.entries.map((entry) => entryRow(context, entry));
  const more = data.next
    ? html`<p class="pager"><a rel="next" href="/admin/suppressions${query({ credential: data.credential || undefined, after: data.next })}">Next page →</a></p>`
    : html``;
  return layout(
    'Suppressions',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}
<p>Addresses a credential no longer sends to: added when an upstream bounced them with 5.1.x or 5.2.1, or by hand. A message to one still goes to its other recipients.</p>
<form method="get" action="/admin/suppressions" class="inline">
<label>Credential <input name="credential" value="${data.credential}" maxlength="80" placeholder="every credential"></label>
<button type="submit">Show</button>
</form>
${
  data.entries.length === 0
    ? html`<p>No suppressed addresses.</p>`
    : html`<table><thead><tr><th>Credential</th><th>Address</th><th>Source</th><th>Reason</th><th>Added</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>`
}
${more}
<h2>Add an address</h2>
${postForm(
  context,
  '/admin/suppressions',
  html`<label>Credential <input name="credential" required maxlength="80"></label>
<label>Address <input name="address" type="email" required maxlength="254"></label>
<button type="submit">Suppress</button>`,
)}`,
  );
}
