import type { WebhookAttemptView, WebhookEndpointView } from '../deps.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, notice, type PageContext, postForm } from './layout.js';

export interface WebhooksPageData {
  endpoints: WebhookEndpointView[];
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

function attemptRow(
  context: PageContext,
  endpoint: WebhookEndpointView,
  attempt: WebhookAttemptView,
): SafeHtml {
  return html`<tr>
<td>${formatTime(attempt.at)}</td>
<td><code>${attempt.eventId}</code></td>
<td>${attempt.type}</td>
<td>${attempt.attempt}</td>
<td>${attempt.statusCode ?? ''}${attempt.error ? html`<span class="detail">${attempt.error}</span>` : ''}</td>
<td>${attempt.latencyMs} ms</td>
<td>${attempt.outcome}</td>
<td>${attempt.nextRetryAt ? formatTime(attempt.nextRetryAt) : ''}</td>
<td>${postForm(
    context,
    `/admin/webhooks/${encodeURIComponent(endpoint.id)}/replay/${encodeURIComponent(attempt.eventId)}`,
    html`<button type="submit">Replay</button>`,
  )}</td>
</tr>`;
}

function endpointSection(context: PageContext, endpoint: WebhookEndpointView): SafeHtml {
  const attempts = endpoint.attempts.map((attempt) => attemptRow(context, endpoint, attempt));
  return html`<section class="webhook">
<h2><code>${endpoint.id}</code> → <code>${endpoint.url}</code></h2>
<p>${endpoint.credentialName ? html`Credential <code>${endpoint.credentialName}</code>` : 'All credentials'};
events ${endpoint.events.join(', ')}; added ${formatTime(endpoint.createdAt)};
${endpoint.disabled ? html`<strong>disabled</strong> (${endpoint.disabledReason ?? ''})` : 'enabled'}.</p>
${
  endpoint.attempts.length === 0
    ? html`<p>No attempts yet.</p>`
    : html`<table><thead><tr><th>At</th><th>Event</th><th>Type</th><th>Try</th><th>Answer</th><th>Latency</th><th>Outcome</th><th>Next retry</th><th></th></tr></thead>
<tbody>${attempts}</tbody></table>`
}
</section>`;
}

/**
 * Webhook endpoints with their recent attempts (status code or error, latency, next
 * retry) and a replay button each (CONTRACT §Admin page). Every value is escaped by
 * `html`: URLs and error texts come from operators and receivers.
 */
export function renderWebhooks(context: PageContext, data: WebhooksPageData): SafeHtml {
  return layout(
    'Webhooks',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}
<p>Add endpoints with <code>postwarden webhooks add URL [--credential NAME] [--events TYPE,...]</code>.</p>
${
  data.endpoints.length === 0
    ? html`<p>No webhooks yet.</p>`
    : data.endpoints.map((endpoint) => endpointSection(context, endpoint))
}`,
  );
}
