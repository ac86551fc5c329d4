import { type MessageSearch, type MessageSummary, RECENT_SCANNED } from '../../queue/operator.js';
import { html, type SafeHtml } from './html.js';
import {
  formatTime,
  layout,
  MESSAGE_STATUSES,
  type PageContext,
  pager,
  statusBadge,
} from './layout.js';

const STATUSES = ['', ...MESSAGE_STATUSES];

export function searchParams(search: MessageSearch): Record<string, string | undefined> {
  return {
    id: search.id,
    sender: search.sender,
    recipient: search.recipient,
    status: search.status,
    from: search.from,
    to: search.to,
  };
}

export function messageRows(rows: MessageSummary[]): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">No messages match.</p>`;
  const body = rows.map(
    (row) => html`<tr>
<td><a href="/admin/messages/${encodeURIComponent(row.id)}"><code>${row.id}</code></a></td>
<td>${row.from}</td>
<td>${row.recipients.join(', ')}</td>
<td>${row.subject}</td>
<td>${statusBadge(row.status)}</td>
<td>${formatTime(row.createdAt)}</td>
</tr>`,
  );
  return html`<table class="messages"><thead><tr><th>Id</th><th>Sender</th><th>Recipients</th><th>Subject</th><th>Status</th><th>Created</th></tr></thead>
<tbody>${body}</tbody></table>`;
}

function statusOptions(selected: string | undefined): SafeHtml[] {
  return STATUSES.map(
    (status) =>
      html`<option value="${status}"${status === (selected ?? '') ? html` selected` : ''}>${status || 'any'}</option>`,
  );
}

/** Messages: search by id, sender, recipient, status and time; paginated (GET, no state). */
export function renderMessages(
  context: PageContext,
  search: MessageSearch,
  result: { rows: MessageSummary[]; hasMore: boolean },
): SafeHtml {
  const params = searchParams(search);
  return layout(
    'Messages',
    context,
    html`<form method="get" action="/admin/messages" class="search">
<label>Id <input name="id" value="${search.id ?? ''}"></label>
<label>Sender <input name="sender" value="${search.sender ?? ''}"></label>
<label>Recipient <input name="recipient" value="${search.recipient ?? ''}"></label>
<label>Status <select name="status">${statusOptions(search.status)}</select></label>
<label>From <input type="datetime-local" name="from" value="${search.from ?? ''}"></label>
<label>To <input type="datetime-local" name="to" value="${search.to ?? ''}"></label>
<button type="submit">Search</button>
</form>
<p class="muted">A whole address searches all history kept; part of one, the newest ${RECENT_SCANNED.toLocaleString('en')} messages.</p>
${messageRows(result.rows)}
${pager('/admin/messages', search.page, result.hasMore, params)}`,
  );
}
