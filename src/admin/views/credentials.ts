import type { Credential } from '../../security/credentials/store.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, notice, type PageContext, postForm } from './layout.js';

export interface CredentialsPageData {
  credentials: Credential[];
  /** Right after create: the secret, shown exactly once (never stored, never in a URL). */
  created?: { name: string; secret: string } | undefined;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

export function renderCredentials(context: PageContext, data: CredentialsPageData): SafeHtml {
  const created = data.created
    ? html`<section class="secret" role="status"><h2>Secret for ${data.created.name}</h2>
<p>Copy it now: it is shown only this once. Use it as the HTTP bearer token, or as the SMTP AUTH password with user name <code>${data.created.name}</code>.</p>
<pre class="secret-value" id="new-secret">${data.created.secret}</pre></section>`
    : html``;
  const rows = data.credentials.map(
    (credential) => html`<tr${credential.revoked ? html` class="revoked"` : ''}>
<td><code>${credential.name}</code></td>
<td>${credential.allowFrom.join(', ')}</td>
<td>${credential.allowTo.length > 0 ? credential.allowTo.join(', ') : 'any'}</td>
<td>${credential.ratePerMinute ?? '—'}</td>
<td>${credential.maxRecipients ?? '—'}</td>
<td>${formatTime(credential.createdAt)}</td>
<td>${
      credential.revoked
        ? 'revoked'
        : postForm(
            context,
            `/admin/credentials/${encodeURIComponent(credential.name)}/revoke`,
            html`<button type="submit" class="danger">Revoke</button>`,
          )
    }</td>
</tr>`,
  );
  return layout(
    'Credentials',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}${created}
<table><thead><tr><th>Name</th><th>Allowed senders</th><th>Allowed recipients</th><th>Rate/min</th><th>Max recipients</th><th>Created</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>
<h2>Create a credential</h2>
${postForm(
  context,
  '/admin/credentials',
  html`<label>Name <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}"></label>
<label>Allowed senders <input name="allowFrom" required placeholder="*@example.com, noreply@example.org"></label>
<label>Allowed recipients <input name="allowTo" placeholder="any (or *@example.net, ops@example.org)"></label>
<label>Rate per minute <input name="rate" inputmode="numeric" placeholder="none"></label>
<label>Max recipients <input name="maxRecipients" inputmode="numeric" placeholder="default"></label>
<button type="submit">Create</button>`,
  'stacked',
)}`,
  );
}
