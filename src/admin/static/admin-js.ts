/**
 * The admin page's only script, served from /admin/static/admin.js (CSP `script-src
 * 'self'`: no inline script anywhere). It only refreshes the overview's numbers and chart;
 * every page works without it. It writes text with textContent, never HTML.
 */
export const ADMIN_JS = `'use strict';
(function () {
  if (document.body.dataset.section !== 'overview') return;
  var REFRESH_MS = 5000;
  function ageText(seconds) {
    if (seconds === null || seconds === undefined) return '\\u2014';
    if (seconds < 60) return Math.round(seconds) + ' s';
    if (seconds < 3600) return Math.floor(seconds / 60) + ' min ' + Math.round(seconds % 60) + ' s';
    return Math.floor(seconds / 3600) + ' h ' + Math.floor((seconds % 3600) / 60) + ' min';
  }
  function set(name, value) {
    var element = document.querySelector('[data-stat="' + name + '"]');
    if (element) element.textContent = String(value);
  }
  function refresh() {
    fetch('/admin/api/stats', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 401) { window.location.assign('/admin/login'); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (stats) {
        if (!stats) return;
        set('waiting', stats.waiting);
        set('active', stats.active);
        set('deferred', stats.deferred);
        var byStatus = stats.byStatus || {};
        set('failed-messages', (byStatus.bounced || 0) + (byStatus.expired || 0) + (byStatus.partial || 0));
        set('oldest', ageText(stats.oldestQueuedAgeSeconds));
        ['queued', 'deferred', 'delivered', 'bounced', 'expired', 'partial'].forEach(function (status) {
          set('status-' + status, byStatus[status] || 0);
        });
        var chart = document.getElementById('throughput-chart');
        if (chart) chart.setAttribute('src', '/admin/throughput.svg?t=' + Date.now());
      })
      .catch(function () {});
  }
  setInterval(refresh, REFRESH_MS);
})();
`;
