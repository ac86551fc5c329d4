/** Helper process: the Dovecot-protocol SASL server for the Postfix reference. */
import { helperOptions, serveHelper } from '../lib/helper-side.js';
import { type Login, startDovecotAuth } from '../postfix/dovecot-auth.js';

const options = helperOptions<{ socket: string; login: Login }>();
const server = await startDovecotAuth(options.socket, options.login);
serveHelper(
  { socket: options.socket },
  {},
  () => new Promise<void>((r) => server.close(() => r())),
);
