import type { MessageSummary } from '../../queue/operator.js';
import { html, type SafeHtml } from './html.js';
import { layout, notice, type PageContext, postForm } from './layout.js';
import { messageRows } from './messages.js';

export interface FailedFilterForm {
  status: string;
  credential: string;
  since: string;
}

export interface FailedPageData {
  filter: FailedFilterForm;
  matched: number;
  rows: MessageSummary[];
  retried?: number | undefined;
}

const STATUSES = ['', 'bounced', 'expired', 'partial'];

/**
 * Failed messages: the filter shows how many match first (the same operation as
 * `postwarden queue retry --all-failed --dry-run`), then one button retries exactly
 * that filter; each listed message can also be retried on its own page.
 */
export function renderFailed(context: PageContext, data: FailedPageData): SafeHtml {
  const { filter } = data;
  const options = STATUSES.map(
    (status) =>
      html`<option value="${status}"${status === filter.status ? html` selected` : ''}>${status || 'any failed'}</option>`,
  );
  const hidden = html`<input type="hidden" name="status" value="${filter.status}">
<input type="hidden" name="credential" value="${filter.credential}">
<input type="hidden" name="since" value="${filter.since}">`;
  const retryAll =
    data.matched > 0
      ? postForm(
          context,
          '/admin/failed/retry',
          html`${hidden}<button type="submit" id="retry-all">Retry all ${data.matched} matching</button>`,
        )
      : html``;
  const shown =
    data.rows.length < data.matched
      ? html`<p class="muted">Showing the first ${data.rows.length}.</p>`
      : html``;
  return layout(
    'Failed messages',
    context,
    html`${data.retried !== undefined ? notice('ok', `Retried ${data.retried} message(s).`) : html``}
<form method="get" action="/admin/failed" class="search">
<label>Status <select name="status">${options}</select></label>
<label>Credential <input name="credential" value="${filter.credential}"></label>
<label>Since <input type="datetime-local" name="since" value="${filter.since}"></label>
<button type="submit">Filter</button>
</form>
<p class="match-count"><strong data-stat="matched">${data.matched}</strong> failed message(s) match this filter.</p>
${retryAll}
${shown}
${messageRows(data.rows)}`,
  );
}
