import type { CapturedMeta } from '../deps.js';
import type { MessageParts } from '../mime-view.js';
import { bodyToggle, renderBody, renderHeaders } from './body.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, type PageContext, pager } from './layout.js';

export function renderCapturedList(
  context: PageContext,
  data: { items: CapturedMeta[]; page: number; hasMore: boolean; enabled: boolean },
): SafeHtml {
  if (!data.enabled) {
    return layout(
      'Captured mailbox',
      context,
      html`<p class="muted">The <code>capture</code> upstream is not configured; nothing is captured.</p>`,
    );
  }
  const rows = data.items.map(
    (item) => html`<tr>
<td><a href="/admin/captured/${encodeURIComponent(item.id)}"><code>${item.id}</code></a></td>
<td>${item.envelope.from || '<>'}</td>
<td>${item.envelope.to.join(', ')}</td>
<td>${item.size}</td>
<td>${formatTime(item.capturedAt)}</td>
</tr>`,
  );
  return layout(
    'Captured mailbox',
    context,
    html`<p class="muted">Messages the <code>capture</code> upstream kept instead of sending.</p>
${
  data.items.length === 0
    ? html`<p class="muted">Nothing captured yet.</p>`
    : html`<table><thead><tr><th>Id</th><th>Envelope from</th><th>Envelope to</th><th>Bytes</th><th>Captured</th></tr></thead><tbody>${rows}</tbody></table>`
}
${pager('/admin/captured', data.page, data.hasMore)}`,
  );
}

export function renderCapturedMessage(
  context: PageContext,
  data: { meta: CapturedMeta; parts: MessageParts; showBody: boolean },
): SafeHtml {
  const href = `/admin/captured/${encodeURIComponent(data.meta.id)}`;
  return layout(
    'Captured message',
    context,
    html`<dl class="facts">
<dt>Id</dt><dd><code>${data.meta.id}</code></dd>
<dt>Envelope from</dt><dd>${data.meta.envelope.from || '<>'}</dd>
<dt>Envelope to</dt><dd>${data.meta.envelope.to.join(', ')}</dd>
<dt>Captured</dt><dd>${formatTime(data.meta.capturedAt)}</dd>
</dl>
<h2>Headers</h2>${renderHeaders(data.parts)}
<h2>Body</h2>${bodyToggle(href, data.showBody)}${data.showBody ? renderBody(data.parts) : html``}`,
  );
}
