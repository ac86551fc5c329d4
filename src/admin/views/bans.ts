import type { BanInfo } from '../../security/abuse-guard.js';
import { html, type SafeHtml } from './html.js';
import { formatAge, formatTime, layout, notice, type PageContext, postForm } from './layout.js';

export function renderBans(
  context: PageContext,
  data: { bans: BanInfo[]; flash?: { kind: 'ok' | 'error'; text: string } | undefined },
): SafeHtml {
  const rows = data.bans.map(
    (ban) => html`<tr>
<td><code>${ban.ip}</code></td>
<td>${formatTime(ban.until)}</td>
<td>${formatAge(ban.secondsLeft)}</td>
<td>${postForm(context, '/admin/bans/unban', html`<input type="hidden" name="ip" value="${ban.ip}"><button type="submit">Unban</button>`)}</td>
</tr>`,
  );
  return layout(
    'Bans',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}
<p class="muted">The tenth failed login within ten minutes bans an address for an hour (doubling for repeat offenders).</p>
${
  data.bans.length === 0
    ? html`<p class="muted">No address is banned.</p>`
    : html`<table><thead><tr><th>Address</th><th>Until</th><th>Left</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
}`,
  );
}
