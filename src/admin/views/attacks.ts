import type { AttackView } from '../../observability/attack-stats.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, type PageContext, postForm } from './layout.js';

export interface AttacksData {
  view: AttackView;
  /** Addresses banned right now (AbuseGuard.listBans), for the ban state of each row. */
  banned: ReadonlySet<string>;
}

function countTable(
  context: PageContext,
  caption: string,
  rows: AttackView['topAddresses'],
  banned?: ReadonlySet<string>,
): SafeHtml {
  if (rows.length === 0)
    return html`<h2>${caption}</h2><p class="muted">None in the last 24 hours.</p>`;
  const body = rows.map((row) => {
    const state = banned
      ? banned.has(row.value)
        ? html`<td>banned ${postForm(context, '/admin/bans/unban', html`<input type="hidden" name="ip" value="${row.value}"><button type="submit">Unban</button>`)}</td>`
        : html`<td class="muted">not banned</td>`
      : html``;
    return html`<tr><td><code>${row.value}</code></td><td>${row.count}</td>${state}</tr>`;
  });
  return html`<h2>${caption}</h2><table data-table="${caption}"><thead><tr><th>${banned ? 'Address' : 'User name'}</th><th>Failed logins</th>${banned ? html`<th>Ban</th>` : html``}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * The attack view (CONTRACT §Admin page): failed logins per hour over the last day by
 * protocol, the top addresses (with their ban state) and user names tried, and the bans
 * with their timeline. Everything comes from bounded counters (observability/attack-stats).
 */
export function renderAttacks(context: PageContext, data: AttacksData): SafeHtml {
  const { view } = data;
  const total = view.hours.reduce((sum, row) => sum + row.smtp + row.http + row.admin, 0);
  const hours = view.hours
    .filter((row) => row.smtp + row.http + row.admin > 0)
    .reverse()
    .map(
      (row) =>
        html`<tr><td>${formatTime(row.hour)}</td><td>${row.smtp}</td><td>${row.http}</td><td>${row.admin}</td></tr>`,
    );
  const bans = view.bans.map(
    (ban) =>
      html`<tr><td>${formatTime(ban.at)}</td><td><code>${ban.ip}</code></td><td>${ban.protocol}</td><td>${ban.user ?? ''}</td><td>${formatTime(ban.until)}</td></tr>`,
  );
  return layout(
    'Attacks',
    context,
    html`<p>Failed logins in the last 24 hours: <strong data-stat="failed-logins">${total}</strong>; banned now: <strong data-stat="banned-now">${data.banned.size}</strong>.</p>
<img src="/admin/attacks.svg" alt="Failed logins per hour over the last day, by protocol" width="720" height="200">
${
  hours.length === 0
    ? html`<p class="muted">No failed login in the last 24 hours.</p>`
    : html`<table data-table="hours"><thead><tr><th>Hour</th><th>SMTP</th><th>HTTP</th><th>Admin</th></tr></thead><tbody>${hours}</tbody></table>`
}
${countTable(context, 'Top addresses', view.topAddresses, data.banned)}
${countTable(context, 'Top user names', view.topUsers)}
<h2>Ban timeline</h2>
${
  bans.length === 0
    ? html`<p class="muted">No ban yet.</p>`
    : html`<table data-table="bans"><thead><tr><th>Banned at</th><th>Address</th><th>Protocol</th><th>Last user tried</th><th>Until</th></tr></thead><tbody>${bans}</tbody></table>`
}`,
  );
}
