import type { SMTPServer } from 'smtp-server';

type Connection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/**
 * When the 220 greeting goes out: after `delayMs` (POSTWARDEN_SMTP_GREETING_DELAY,
 * default 0) instead of smtp-server's fixed 100 ms.
 *
 * smtp-server's `init()` waits 100 ms before every greeting so that a client talking
 * before it ("early talker") can be refused with `421 You talk too soon`. That pause is a
 * defence of port-25 MX servers against spam bots, which blast their commands without
 * waiting. Our listeners are submission ports where nothing is accepted without AUTH,
 * and password guessing is handled by the abuse guard, so the pause buys nothing here,
 * while it caps clients that open one connection per message (20 such clients could not
 * pass 200 messages a second, whatever the relay's speed). Operators who want the
 * pregreet check set a delay; a client that talks before the greeting is then refused
 * exactly as smtp-server refuses it (commands before the greeting are answered 421 and
 * the connection closes, because `_ready` is still false). With no delay the greeting
 * still waits for onConnect (a Redis round trip), and a client talking before it is
 * refused the same way: an SMTP client waits for the greeting (RFC 5321).
 *
 * The replacement is smtp-server 3.21's `init()` with only the fixed wait changed: same
 * socket listeners (and implicit-TLS/upgrade path), same maxClients refusal, then
 * `connectionReady()`, which runs onConnect (per-IP limit, ban check) before greeting.
 */
export function setGreetingDelay(connection: Connection, delayMs: number): void {
  connection.init = function (this: Connection) {
    this._setListeners(() => {
      const maxClients = this._server.options.maxClients;
      if (maxClients && this._server.connections.size > maxClients) {
        return this.send(
          421,
          `${this.name} Too many connected clients, try again in a moment`,
          false,
        );
      }
      if (delayMs <= 0) return this.connectionReady();
      // Unref'd like smtp-server's own timer: a pending greeting must not keep the process up.
      setTimeout(() => this.connectionReady(), delayMs).unref();
    });
  };
}
