import type { UpstreamStatus } from '../../observability/upstream-status.js';
import type { PauseState, QueueStats } from '../../queue/operator.js';
import { pauseSwitch } from './holds.js';
import { html, type SafeHtml } from './html.js';
import {
  formatAge,
  formatTime,
  layout,
  MESSAGE_STATUSES,
  notice,
  type PageContext,
} from './layout.js';

export interface OverviewData {
  stats: QueueStats;
  upstreams: UpstreamStatus[];
  pause: PauseState;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

/** Messages an operator can retry: the same statuses as `queue retry --all-failed`. */
export function failedMessages(byStatus: Record<string, number>): number {
  return (byStatus.bounced ?? 0) + (byStatus.expired ?? 0) + (byStatus.partial ?? 0);
}

function tile(label: string, stat: string, value: number | string, href?: string): SafeHtml {
  const body = html`<span class="tile-value" data-stat="${stat}">${value}</span><span class="tile-label">${label}</span>`;
  return href
    ? html`<a class="tile" href="${href}">${body}</a>`
    : html`<div class="tile">${body}</div>`;
}

/** Overview (CONTRACT §Admin page): counts by state, throughput, oldest age, upstreams. */
export function renderOverview(context: PageContext, data: OverviewData): SafeHtml {
  const { stats } = data;
  const queueTiles = [
    tile('waiting', 'waiting', stats.waiting),
    tile('delivering now', 'active', stats.active),
    tile('deferred (retrying)', 'deferred', stats.deferred),
    tile('failed (retryable)', 'failed-messages', failedMessages(stats.byStatus), '/admin/failed'),
    tile('oldest queued', 'oldest', formatAge(stats.oldestQueuedAgeSeconds)),
  ];
  const statusTiles = MESSAGE_STATUSES.map((status) =>
    tile(
      status,
      `status-${status}`,
      stats.byStatus[status] ?? 0,
      `/admin/messages?status=${status}`,
    ),
  );
  const upstreamRows = data.upstreams.map(
    (upstream) => html`<tr>
<td><code>${upstream.label}</code></td>
<td>${formatTime(upstream.lastSuccessAt)}</td>
<td>${formatTime(upstream.lastErrorAt)}</td>
<td class="detail">${upstream.lastError ?? ''}</td>
</tr>`,
  );
  return layout(
    'Overview',
    context,
    html`${notice(data.flash?.kind ?? 'ok', data.flash?.text)}
<section aria-labelledby="pause-h"><h2 id="pause-h">Kill switch</h2>${pauseSwitch(context, data.pause)}</section>
<section aria-labelledby="queue-h"><h2 id="queue-h">Delivery queue</h2>
<div class="tiles" id="queue-tiles">${queueTiles}</div></section>
<section aria-labelledby="status-h"><h2 id="status-h">Messages by status</h2>
<div class="tiles" id="status-tiles">${statusTiles}</div></section>
<section aria-labelledby="tp-h"><h2 id="tp-h">Accepted and delivered per minute, last hour</h2>
<img class="chart" id="throughput-chart" src="/admin/throughput.svg" width="720" height="200" alt="Accepted and delivered messages per minute over the last hour"></section>
<section aria-labelledby="up-h"><h2 id="up-h">Upstreams</h2>
<table><thead><tr><th>Upstream</th><th>Last success</th><th>Last error</th><th>Error</th></tr></thead>
<tbody>${upstreamRows}</tbody></table></section>`,
  );
}
