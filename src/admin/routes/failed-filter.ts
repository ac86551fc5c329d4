import type { RetryFilter } from '../../queue/operator.js';
import type { FailedFilterForm } from '../views/failed.js';
import { field } from './form.js';

const FAILED_STATUSES = new Set(['bounced', 'expired', 'partial']);

/** The failed-messages filter from a query string or a form body, bounded and checked. */
export function readFailedFilter(source: unknown): { form: FailedFilterForm; filter: RetryFilter } {
  const status = field(source, 'status');
  const credential = field(source, 'credential').trim().slice(0, 64);
  const since = field(source, 'since').trim().slice(0, 40);
  const form: FailedFilterForm = {
    status: FAILED_STATUSES.has(status) ? status : '',
    credential,
    since,
  };
  const filter: RetryFilter = {};
  if (form.status) filter.status = form.status;
  if (credential) filter.credential = credential;
  if (since) {
    const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(since) ? since : `${since}Z`);
    if (!Number.isNaN(ms)) filter.since = ms;
    else form.since = '';
  }
  return { form, filter };
}
