import type { AuditEntry } from '../../queue/operator.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, type PageContext } from './layout.js';

/** The audit log (CONTRACT §Containment): every operator action, newest first. */
export function renderAudit(context: PageContext, entries: AuditEntry[]): SafeHtml {
  const rows = entries.map(
    (entry) => html`<tr>
<td>${formatTime(entry.at)}</td>
<td><code>${entry.actor}</code></td>
<td>${entry.action}</td>
<td><code>${entry.target}</code></td>
<td class="detail">${entry.detail}</td>
</tr>`,
  );
  return layout(
    'Audit log',
    context,
    rows.length === 0
      ? html`<p class="muted">No operator action yet.</p>`
      : html`<table data-table="audit"><thead><tr><th>At</th><th>Actor</th><th>Action</th><th>Target</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}
