/**
 * Text → HTML element content or a quoted attribute value, for the pages and bodies that
 * are not the admin page (which has its own html template, admin/views/html.ts): lead
 * bodies, the form endpoint's answers and the embed snippet. Visitors write form fields,
 * so every one passes through here.
 */
export function htmlText(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
