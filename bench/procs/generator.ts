/** Helper process: the load generator (SMTP and HTTP), measured on its own CPU. */
import { helperOptions, serveHelper } from '../lib/helper-side.js';
import { type HttpLoadOptions, runHttpLoad } from '../load/http-load.js';
import { runSmtpLoad, type SmtpLoadOptions } from '../load/smtp-load.js';
import { measureLoad } from '../load/summary.js';

helperOptions<Record<string, never>>();
serveHelper(
  { pid: process.pid },
  {
    smtp: (payload) => measureLoad(() => runSmtpLoad(payload as SmtpLoadOptions)),
    http: (payload) => measureLoad(() => runHttpLoad(payload as HttpLoadOptions)),
  },
);
