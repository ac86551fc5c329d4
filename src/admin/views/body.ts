import type { MessageParts } from '../mime-view.js';
import { html, type SafeHtml } from './html.js';

/**
 * The one way a stored or captured message's content is shown: headers in a table, the
 * text part in a <pre>, and an HTML part only inside `<iframe sandbox srcdoc>` — a
 * sandbox with no permissions (no script, no forms, an opaque origin), which also inherits
 * the admin page's CSP, so a tracking pixel cannot load from outside. Every value escaped.
 */
export function renderHeaders(parts: MessageParts): SafeHtml {
  const rows = parts.headers.map(
    (field) => html`<tr><th scope="row">${field.name}</th><td>${field.value}</td></tr>`,
  );
  return html`<table class="headers"><tbody>${rows}</tbody></table>`;
}

export function renderBody(parts: MessageParts): SafeHtml {
  const text =
    parts.text !== undefined
      ? html`<h3>Text part</h3><pre class="body-text">${parts.text}</pre>`
      : html``;
  const htmlPart =
    parts.html !== undefined
      ? html`<h3>HTML part (sandboxed)</h3><iframe class="body-html" sandbox="" referrerpolicy="no-referrer" title="HTML body, sandboxed" srcdoc="${parts.html}"></iframe>`
      : html``;
  const attachments =
    parts.attachments.length > 0
      ? html`<h3>Attachments</h3><ul>${parts.attachments.map(
          (item) => html`<li>${item.filename} (${item.contentType}, ${item.size} bytes)</li>`,
        )}</ul>`
      : html``;
  const empty =
    parts.text === undefined && parts.html === undefined
      ? html`<p class="muted">No text or HTML part.</p>`
      : html``;
  return html`<section class="body" id="body">${text}${htmlPart}${attachments}${empty}</section>`;
}

/** The body stays hidden until the operator asks for it (a plain link, no script). */
export function bodyToggle(baseHref: string, shown: boolean): SafeHtml {
  return shown
    ? html`<p><a href="${baseHref}">Hide body</a></p>`
    : html`<p><a class="button" href="${baseHref}?body=1#body">Show body</a></p>`;
}
