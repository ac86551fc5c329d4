import type { MessageView } from '../../message/types.js';
import type { MessageParts } from '../mime-view.js';
import { bodyToggle, renderBody, renderHeaders } from './body.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, notice, type PageContext, postForm, statusBadge } from './layout.js';

export interface MessagePageData {
  view: MessageView & { credential?: string };
  /** undefined when the stored body is gone (freed after delivery). */
  parts: MessageParts | undefined;
  showBody: boolean;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

// A suppressed message can be retried once its address is off the list (the worker re-checks).
const FAILED = new Set(['bounced', 'expired', 'partial', 'suppressed']);

/** One message: recipients, event timeline, headers; the body only when asked for. */
export function renderMessage(context: PageContext, data: MessagePageData): SafeHtml {
  const { view } = data;
  const href = `/admin/messages/${encodeURIComponent(view.id)}`;
  const recipients = view.recipients.map(
    (recipient) =>
      html`<tr><td>${recipient.address}</td><td>${statusBadge(recipient.status)}</td><td class="detail">${recipient.detail}</td></tr>`,
  );
  const events = view.events.map(
    (event) =>
      html`<li><time>${formatTime(event.at)}</time> ${statusBadge(event.type)} <span class="detail">${event.detail}</span></li>`,
  );
  const retry = FAILED.has(view.status)
    ? postForm(context, `${href}/retry`, html`<button type="submit">Retry this message</button>`)
    : html``;
  const content = data.parts
    ? html`<h2>Headers</h2>${renderHeaders(data.parts)}
<h2>Body</h2>${bodyToggle(href, data.showBody)}${data.showBody ? renderBody(data.parts) : html``}`
    : html`<p class="muted">The stored copy of this message was freed after delivery.</p>`;
  return layout(
    'Message',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}
<dl class="facts">
<dt>Id</dt><dd><code>${view.id}</code></dd>
<dt>Status</dt><dd>${statusBadge(view.status)}</dd>
<dt>From</dt><dd>${view.from}</dd>
<dt>Subject</dt><dd class="subject">${view.subject}</dd>
<dt>Credential</dt><dd>${view.credential ?? ''}</dd>
<dt>Created</dt><dd>${formatTime(view.createdAt)}</dd>
<dt>Attempts</dt><dd>${view.attempts}</dd>
</dl>
${retry}
<h2>Recipients</h2>
<table><thead><tr><th>Address</th><th>Status</th><th>Last reply</th></tr></thead><tbody>${recipients}</tbody></table>
<h2>Events</h2>
<ol class="timeline">${events}</ol>
${content}`,
  );
}
