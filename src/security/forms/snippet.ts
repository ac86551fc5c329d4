import { htmlText } from '../../message/html-text.js';
import type { Form } from './form-store.js';

/** Where a form posts: `<relay URL>/v1/forms/<id>`. */
export function formEndpoint(baseUrl: string, form: Pick<Form, 'id'>): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/forms/${form.id}`;
}

/**
 * The copy-paste HTML for a page (CONTRACT §Lead forms): a plain `<form method="post">`
 * that works without JavaScript, the hidden `_gotcha` honeypot (hidden by attribute, so
 * autofill that skips hidden fields leaves it empty), and with `--pow` the ALTCHA widget,
 * whose script is served by the relay itself: the page loads nothing from elsewhere.
 */
export function formSnippet(baseUrl: string, form: Pick<Form, 'id' | 'pow'>): string {
  const endpoint = htmlText(formEndpoint(baseUrl, form));
  const lines = [
    `<form method="post" action="${endpoint}">`,
    '  <label>Name <input name="name" required></label>',
    '  <label>Email <input name="email" type="email" required></label>',
    '  <label>Message <textarea name="message"></textarea></label>',
    '  <input name="_gotcha" type="text" hidden tabindex="-1" autocomplete="off">',
  ];
  if (form.pow) {
    lines.push(
      `  <altcha-widget challenge="${endpoint}/challenge"></altcha-widget>`,
      `  <script type="module" src="${htmlText(baseUrl.replace(/\/+$/, ''))}/v1/forms/widget.js"></script>`,
    );
  }
  lines.push('  <button type="submit">Send</button>', '</form>');
  return lines.join('\n');
}
