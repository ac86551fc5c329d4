import type { Form } from '../../security/forms/form-store.js';
import { formEndpoint, formSnippet } from '../../security/forms/snippet.js';
import type { QuarantinedPost } from '../deps.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, notice, type PageContext, postForm } from './layout.js';

export interface FormsPageData {
  forms: Form[];
  spam: QuarantinedPost[];
  /** The relay's address as the operator reached it: what the snippets post to. */
  baseUrl: string;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

function formRow(context: PageContext, baseUrl: string, form: Form): SafeHtml {
  return html`<tr>
<td><code>${form.name}</code></td>
<td><code>${form.id}</code></td>
<td>${form.to.join(', ')}</td>
<td>${form.origins.join(', ')}</td>
<td>${form.ratePerMinute}/min${form.pow ? ', proof-of-work' : ''}</td>
<td><details><summary>Embed</summary><p><code>${formEndpoint(baseUrl, form)}</code></p><pre class="snippet">${formSnippet(baseUrl, form)}</pre></details></td>
<td>${postForm(
    context,
    `/admin/forms/${encodeURIComponent(form.name)}/remove`,
    html`<button type="submit" class="danger">Remove</button>`,
  )}</td>
</tr>`;
}

function spamRow(context: PageContext, post: QuarantinedPost): SafeHtml {
  return html`<tr>
<td><code>${post.id}</code></td>
<td><code>${post.form}</code></td>
<td>${formatTime(post.createdAt)}</td>
<td>${post.recipients.join(', ')}</td>
<td>${post.size} bytes</td>
<td>${postForm(
    context,
    `/admin/forms/spam/${encodeURIComponent(post.id)}/release`,
    html`<button type="submit">Release</button>`,
  )}</td>
</tr>`;
}

/**
 * Lead forms with their embed snippet, and the honeypot's quarantine with release
 * (CONTRACT §Admin page). Every value is escaped by `html`: form names, origins and
 * recipients are the operator's, but the snippet is shown as text, never as markup.
 */
export function renderForms(context: PageContext, data: FormsPageData): SafeHtml {
  const forms = data.forms.map((form) => formRow(context, data.baseUrl, form));
  const spam = data.spam.map((post) => spamRow(context, post));
  return layout(
    'Forms',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}
<p>Create forms with <code>postwarden forms create NAME --to ADDRESS --origin ORIGIN</code>.</p>
<table><thead><tr><th>Name</th><th>Id</th><th>Recipients</th><th>Origins</th><th>Limits</th><th></th><th></th></tr></thead>
<tbody>${forms}</tbody></table>
<h2>Spam quarantine</h2>
<p>Posts whose honeypot field was filled: answered as a success, kept here, delivered only when released.</p>
${
  data.spam.length === 0
    ? html`<p>Nothing quarantined.</p>`
    : html`<table><thead><tr><th>Id</th><th>Form</th><th>Received</th><th>Recipients</th><th>Size</th><th></th></tr></thead>
<tbody>${spam}</tbody></table>`
}`,
  );
}
