import type { AttackView } from '../../observability/attack-stats.js';
import type { ThroughputPoint } from '../../observability/throughput.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 720;
const HEIGHT = 200;
const PAD = { left: 40, right: 10, top: 10, bottom: 24 };

function polyline(points: ThroughputPoint[], field: 'accepted' | 'delivered', max: number): string {
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const step = points.length > 1 ? innerW / (points.length - 1) : 0;
  return points
    .map((point, index) => {
      const x = PAD.left + index * step;
      const y = PAD.top + innerH - (point[field] / max) * innerH;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/**
 * Accepted and delivered per minute over the last hour as a standalone SVG document,
 * drawn on the server (no chart library, nothing from outside). Served as an image, so
 * it can never run script. Every value in it is a number or a fixed label.
 */
export function renderThroughputSvg(points: ThroughputPoint[]): SafeHtml {
  const max = Math.max(1, ...points.map((point) => Math.max(point.accepted, point.delivered)));
  const bottom = HEIGHT - PAD.bottom;
  const first = points[0]?.minute.slice(11, 16) ?? '';
  const last = points.at(-1)?.minute.slice(11, 16) ?? '';
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="Accepted and delivered messages per minute, last hour">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>
<line x1="${PAD.left}" y1="${bottom}" x2="${WIDTH - PAD.right}" y2="${bottom}" stroke="#9aa3ad"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${bottom}" stroke="#9aa3ad"/>
<text x="${PAD.left - 6}" y="${PAD.top + 10}" font-size="11" text-anchor="end" fill="#4a5561" font-family="sans-serif">${max}</text>
<text x="${PAD.left - 6}" y="${bottom}" font-size="11" text-anchor="end" fill="#4a5561" font-family="sans-serif">0</text>
<text x="${PAD.left}" y="${HEIGHT - 6}" font-size="11" fill="#4a5561" font-family="sans-serif">${first} UTC</text>
<text x="${WIDTH - PAD.right}" y="${HEIGHT - 6}" font-size="11" text-anchor="end" fill="#4a5561" font-family="sans-serif">${last} UTC</text>
<polyline points="${polyline(points, 'accepted', max)}" fill="none" stroke="#2563eb" stroke-width="2"/>
<polyline points="${polyline(points, 'delivered', max)}" fill="none" stroke="#16a34a" stroke-width="2" stroke-dasharray="5 3"/>
<text x="${WIDTH - 180}" y="${PAD.top + 12}" font-size="12" fill="#2563eb" font-family="sans-serif">— accepted</text>
<text x="${WIDTH - 90}" y="${PAD.top + 12}" font-size="12" fill="#16a34a" font-family="sans-serif">- - delivered</text>
</svg>
`;
}

const PROTOCOL_COLOURS = { smtp: '#2563eb', http: '#d97706', admin: '#dc2626' } as const;

/**
 * Failed logins per hour over the last day as stacked bars by protocol, a standalone SVG
 * like the throughput chart (numbers and fixed labels only).
 */
export function renderAttacksSvg(hours: AttackView['hours']): SafeHtml {
  const totals = hours.map((row) => row.smtp + row.http + row.admin);
  const max = Math.max(1, ...totals);
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const step = hours.length > 0 ? innerW / hours.length : innerW;
  const bottom = HEIGHT - PAD.bottom;
  const bars = hours.flatMap((row, index) => {
    let y = bottom;
    return (['smtp', 'http', 'admin'] as const).map((protocol) => {
      const h = (row[protocol] / max) * innerH;
      y -= h;
      return html`<rect x="${(PAD.left + index * step + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, step - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PROTOCOL_COLOURS[protocol]}"/>`;
    });
  });
  const first = hours[0]?.hour.slice(11, 16) ?? '';
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="Failed logins per hour, last day, by protocol">
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>
<line x1="${PAD.left}" y1="${bottom}" x2="${WIDTH - PAD.right}" y2="${bottom}" stroke="#9aa3ad"/>
<text x="${PAD.left - 6}" y="${PAD.top + 10}" font-size="11" text-anchor="end" fill="#4a5561" font-family="sans-serif">${max}</text>
<text x="${PAD.left - 6}" y="${bottom}" font-size="11" text-anchor="end" fill="#4a5561" font-family="sans-serif">0</text>
<text x="${PAD.left}" y="${HEIGHT - 6}" font-size="11" fill="#4a5561" font-family="sans-serif">${first} UTC</text>
<text x="${WIDTH - PAD.right}" y="${HEIGHT - 6}" font-size="11" text-anchor="end" fill="#4a5561" font-family="sans-serif">now</text>
${bars}
<text x="${WIDTH - 200}" y="${PAD.top + 12}" font-size="12" fill="${PROTOCOL_COLOURS.smtp}" font-family="sans-serif">■ smtp</text>
<text x="${WIDTH - 140}" y="${PAD.top + 12}" font-size="12" fill="${PROTOCOL_COLOURS.http}" font-family="sans-serif">■ http</text>
<text x="${WIDTH - 80}" y="${PAD.top + 12}" font-size="12" fill="${PROTOCOL_COLOURS.admin}" font-family="sans-serif">■ admin</text>
</svg>
`;
}
