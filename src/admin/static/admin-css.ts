/** The admin page's only stylesheet, served from /admin/static/admin.css (CSP `style-src 'self'`). */
export const ADMIN_CSS = `:root { color-scheme: light; --fg: #1f2933; --muted: #5f6b76; --line: #d9dee3; --accent: #2563eb; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #111827; color: #fff; }
header .brand { font-weight: 700; letter-spacing: .02em; }
nav { display: flex; align-items: center; gap: 16px; flex: 1; }
nav a { color: #cbd5e1; text-decoration: none; }
nav a[aria-current="page"], nav a:hover { color: #fff; }
nav form.logout { margin-left: auto; }
button.link { background: none; border: 0; color: #cbd5e1; cursor: pointer; font: inherit; padding: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 16px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { background: #eef1f4; font-weight: 600; }
tr.revoked td { color: var(--muted); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid var(--line); padding: 10px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; }
.tile { display: flex; flex-direction: column; min-width: 140px; padding: 12px 16px; background: #fff; border: 1px solid var(--line); border-radius: 6px; color: inherit; text-decoration: none; }
.tile-value { font-size: 24px; font-weight: 700; }
.tile-label { color: var(--muted); }
a.tile:hover { border-color: var(--accent); }
img.chart { max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #e5e7eb; }
.status-delivered { background: #dcfce7; color: #166534; }
.status-bounced, .status-expired { background: #fee2e2; color: #991b1b; }
.status-deferred, .status-partial { background: #fef3c7; color: #92400e; }
.status-queued, .status-retried { background: #dbeafe; color: #1e40af; }
.status-suppressed { background: #e5e7eb; color: #374151; }
.detail { color: var(--muted); }
.muted { color: var(--muted); }
.notice { padding: 8px 12px; border-radius: 4px; }
.notice-ok { background: #dcfce7; }
.notice-error { background: #fee2e2; }
form.search, form.stacked { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; margin: 0 0 16px; }
form.stacked { flex-direction: column; align-items: flex-start; }
form.inline { display: inline; }
form.login { display: flex; flex-direction: column; gap: 12px; max-width: 320px; }
label { display: flex; flex-direction: column; gap: 2px; color: var(--muted); font-size: 12px; }
input, select { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 4px; color: var(--fg); background: #fff; }
button, a.button { font: inherit; padding: 6px 14px; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.danger, a.button.danger { background: #b91c1c; border-color: #b91c1c; }
.paused { border: 2px solid #b91c1c; background: #fef2f2; padding: 8px 14px; border-radius: 6px; margin: 0 0 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; border: 1px solid var(--line); padding: 12px 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ol.timeline { list-style: none; padding: 0; }
ol.timeline li { padding: 4px 0; border-bottom: 1px dashed var(--line); }
ol.timeline time { color: var(--muted); margin-right: 8px; }
iframe.body-html { width: 100%; height: 420px; border: 1px solid var(--line); background: #fff; }
.pager { display: flex; gap: 16px; align-items: center; }
.secret { background: #fffbeb; border: 1px solid #f59e0b; padding: 8px 16px; border-radius: 6px; }
`;
