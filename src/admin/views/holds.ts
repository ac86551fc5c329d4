import type { HoldInfo, PauseState } from '../../queue/operator.js';
import { html, type SafeHtml } from './html.js';
import { formatTime, layout, notice, type PageContext, postForm } from './layout.js';

type Flash = { kind: 'ok' | 'error'; text: string } | undefined;

/** The kill switch as a form: pause with a reason, or resume (CONTRACT §Containment). */
export function pauseSwitch(context: PageContext, pause: PauseState): SafeHtml {
  if (pause.paused) {
    return html`<div class="paused" data-state="paused"><p><strong>Delivery is paused</strong> since ${formatTime(pause.at)} by ${pause.actor ?? ''}${pause.reason ? html`: ${pause.reason}` : ''}. Messages are still accepted and kept.</p>
${postForm(context, '/admin/resume', html`<button type="submit">Resume delivery</button>`)}</div>`;
  }
  return html`<div data-state="running"><p>Delivery is running.</p>
${postForm(context, '/admin/pause', html`<label>Reason <input name="reason" maxlength="200"></label> <button type="submit" class="danger">Pause all delivery</button>`)}</div>`;
}

/**
 * Held credentials (CONTRACT §Containment): each with its reason and what it holds,
 * release, and purge — which first shows how many messages it would end.
 */
export function renderHolds(
  context: PageContext,
  data: { holds: HoldInfo[]; flash?: Flash; purged?: number | undefined },
): SafeHtml {
  const rows = data.holds.map((hold) => {
    const name = encodeURIComponent(hold.credential);
    return html`<tr data-credential="${hold.credential}">
<td><code>${hold.credential}</code></td>
<td>${hold.reason}${hold.detail ? html` — ${hold.detail}` : ''}</td>
<td>${formatTime(hold.at)}</td>
<td data-held="${hold.messages}">${hold.messages}</td>
<td>${postForm(context, `/admin/holds/${name}/release`, html`<button type="submit">Release</button>`)}
<a class="button danger" href="/admin/holds/${name}/purge">Purge…</a></td>
</tr>`;
  });
  return layout(
    'Holds',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}
${data.purged === undefined ? html`` : html`<p data-stat="purged">Purged ${data.purged} message(s).</p>`}
<p class="muted">A held credential's messages are accepted and kept but not delivered. Release delivers them; purge ends them as <code>purged</code> (never delivered).</p>
${
  rows.length === 0
    ? html`<p class="muted">No credential is on hold.</p>`
    : html`<table><thead><tr><th>Credential</th><th>Reason</th><th>Since</th><th>Held messages</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
}
<h2>Hold a credential</h2>
${postForm(context, '/admin/holds', html`<label>Name <input name="name" required maxlength="64"></label> <label>Reason <input name="reason" maxlength="200"></label> <button type="submit">Hold</button>`, 'search')}`,
  );
}

/** The count first: purge only after the operator has seen how many messages it ends. */
export function renderPurgeConfirm(
  context: PageContext,
  data: { credential: string; count: number },
): SafeHtml {
  const name = encodeURIComponent(data.credential);
  return layout(
    'Purge held messages',
    context,
    html`<p>Purging ends <strong data-stat="purge-count">${data.count}</strong> held message(s) of <code>${data.credential}</code> as <code>purged</code>: their bodies are deleted and they are never delivered.</p>
<p class="muted">Messages it accepts meanwhile (it is still on hold) are purged too.</p>
${postForm(context, `/admin/holds/${name}/purge`, html`<button type="submit" class="danger">Purge ${data.count} message(s)</button> <a href="/admin/holds">Cancel</a>`)}`,
  );
}
