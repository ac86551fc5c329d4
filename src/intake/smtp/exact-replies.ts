import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { setGreetingDelay } from './greeting.js';
import { isLoopbackAddress } from './loopback.js';
import { Replies, replyText } from './replies.js';

type Connection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/** A reply text that already carries its RFC 3463 code, e.g. `5.7.1 Sender not granted`. */
const LEADING_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * smtp-server with three adjustments the contract needs and its options cannot express
 * (checked against smtp-server 3.21; the integration tests pin every reply string, so a
 * library change that breaks them fails the suite):
 *
 * 1. Exact enhanced status codes. With ENHANCEDSTATUSCODES on, smtp-server derives the
 *    enhanced code of a handler's error from the reply code alone (553 → 5.1.3, 452 →
 *    4.2.2, 550 → 5.1.1, …), but the contract fixes e.g. `553 5.7.1` and `452 4.5.3`.
 *    Our replies put the enhanced code at the start of their text (replies.ts); for those
 *    the library's own code is left out. Its built-in replies keep its mapping.
 * 2. No `AUTH` in the EHLO list of a cleartext session from a non-loopback client: that
 *    client has to STARTTLS first (CONTRACT: AUTH only over TLS, except loopback).
 * 3. `AUTH` from such a client is answered `538 5.7.11` before the SASL exchange starts,
 *    so AUTH LOGIN never prompts for a password in cleartext. (`allowInsecureAuth` has
 *    to be on for the loopback exception; onAuth refuses the same case again.)
 * 4. The greeting waits `greetingDelayMs` (default 0) instead of a fixed 100 ms
 *    (greeting.ts says why).
 *
 * Connections are adapted as they are added to `server.connections`, which smtp-server
 * does before it calls their `init()`.
 */
export class ExactReplySmtpServer extends SMTPServer {
  constructor(options: SMTPServerOptions, extra: { greetingDelayMs?: number | undefined } = {}) {
    super(options);
    const greetingDelayMs = extra.greetingDelayMs ?? 0;
    this.connections = new AdaptingSet((connection) => {
      adaptConnection(connection);
      setGreetingDelay(connection, greetingDelayMs);
    });
  }
}

class AdaptingSet extends Set<Connection> {
  readonly #adapt: (connection: Connection) => void;

  constructor(adapt: (connection: Connection) => void) {
    super();
    this.#adapt = adapt;
  }

  override add(connection: Connection): this {
    if (!this.has(connection)) this.#adapt(connection);
    return super.add(connection);
  }
}

function needsTlsForAuth(connection: Connection): boolean {
  return !connection.secure && !isLoopbackAddress(connection.remoteAddress);
}

function adaptConnection(connection: Connection): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    if (typeof data === 'string' && LEADING_ENHANCED_CODE.test(data)) {
      return send(code, data, false);
    }
    if (Array.isArray(data) && needsTlsForAuth(connection)) {
      // Only the EHLO reply is multi-line.
      return send(
        code,
        data.filter((line) => !/^AUTH\b/i.test(line)),
        context,
      );
    }
    return send(code, data, context);
  };

  const handleAuth = connection.handler_AUTH;
  connection.handler_AUTH = function (this: Connection, command, callback) {
    if (needsTlsForAuth(this)) {
      this.send(Replies.encryptionRequired.code, replyText(Replies.encryptionRequired));
      return callback();
    }
    return handleAuth.call(this, command, callback);
  };
}
