import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { BlockList, Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { PostwardenError } from '../../errors.js';
import { isInNetworks } from '../../security/networks.js';
import { isLoopbackAddress } from './loopback.js';
import { readProxyHeader } from './proxy-header.js';
import { Replies, replyText, type SmtpReply } from './replies.js';

/**
 * Every change Postwarden makes to smtp-server's internals, in one place. Each patch
 * reaches past the library's documented options, so each was written against, and is
 * only trusted on, the versions below. package.json pins smtp-server to exactly this
 * version, and `PatchedSmtpServer` refuses to be built on any other (a new release may
 * rename or reorder what the patches replace, and the failure would be silent: wrong
 * reply codes, AUTH offered in cleartext, a 100 ms greeting wait).
 *
 * To move to a new smtp-server release: read its changes to `smtp-connection.js`
 * (`init`, `send`, `handler_AUTH`) and `smtp-server.js` (`connect`, `connections`),
 * re-check each patch, run the SMTP tests (they pin every reply string), then add the
 * version here and pin it in package.json.
 *
 * The patches, all applied to each connection as smtp-server adds it to
 * `server.connections` (it does so in `connect()`, before it calls the connection's
 * `init()`), written against smtp-server 3.21.6:
 *
 * 1. `send` — exact enhanced status codes. With ENHANCEDSTATUSCODES on, smtp-server
 *    derives the enhanced code of a handler's error from the reply code alone (553 →
 *    5.1.3, 452 → 4.2.2, 550 → 5.1.1, …), but the contract fixes e.g. `553 5.7.1` and
 *    `452 4.5.3`. Our replies put the enhanced code at the start of their text
 *    (replies.ts); for those the library's own code is left out. Its built-in replies
 *    keep its mapping.
 * 2. `send` — no `AUTH` in the EHLO list of a cleartext session from a non-loopback
 *    client: that client has to STARTTLS first (CONTRACT: AUTH only over TLS, except
 *    loopback).
 * 3. `handler_AUTH` — `AUTH` from such a client is answered `538 5.7.11` before the SASL
 *    exchange starts, so AUTH LOGIN never prompts for a password in cleartext.
 *    (`allowInsecureAuth` has to be on for the loopback exception; onAuth refuses the
 *    same case again.)
 * 4. `init` — the greeting waits `greetingDelayMs` (default 0) instead of a fixed 100 ms;
 *    `setGreetingDelay` says why. The replacement is a copy of 3.21.6's `init()` with
 *    only that wait changed.
 * 5. `send` — a malformed AUTH exchange is a failure too (CONTRACT §Abuse guard). Its
 *    sasl.js answers a PLAIN token without the two NULs, an empty or control-character
 *    LOGIN user name, or extra AUTH arguments with a 501 of its own and never calls
 *    onAuth, so nothing would count it. The 501s of sasl.js are recognised by their text
 *    (MALFORMED_AUTH_REPLY, 3.21.6's wording), reported to `onMalformedAuth`, and the one
 *    it says is too many is sent as our 421 instead, which closes the connection.
 * 6. `_handleProxy` — PROXY protocol from the listed load balancers only
 *    (POSTWARDEN_TRUSTED_PROXIES, IPs and CIDRs), v1 and v2: smtp-server's own reader
 *    takes exact addresses only and reads v1 only. From a listed peer the header is
 *    required (a connection without one is closed with 421); from any other peer it is
 *    not read, so `PROXY …` is just an unknown command there (proxy-header.ts).
 * 7. `handler_DATA` — `beforeData` may refuse DATA before the 354 (POSTWARDEN_MAX_INFLIGHT_BYTES:
 *    no room in the byte budget for even the first bytes, `452 4.3.1`), so a client is
 *    not made to send a whole message only to have it drained and refused. smtp-server has
 *    no hook between RCPT and the 354.
 */
export const SUPPORTED_SMTP_SERVER_VERSIONS: readonly string[] = ['3.21.6'];

/**
 * Refuses (PostwardenError `unsupported_dependency`) an smtp-server version the patches
 * were not written for. `installed` is the version string of its package.json.
 */
export function checkSmtpServerVersion(installed: string): void {
  if (SUPPORTED_SMTP_SERVER_VERSIONS.includes(installed)) return;
  const supported = SUPPORTED_SMTP_SERVER_VERSIONS.join(', ');
  throw new PostwardenError(
    'unsupported_dependency',
    `smtp-server ${installed} is installed, but Postwarden patches its internals and supports ` +
      `only smtp-server ${supported} (src/intake/smtp/smtp-server-patches.ts). Install the ` +
      `pinned version (npm ci with the shipped package-lock.json, or npm install ` +
      `smtp-server@${SUPPORTED_SMTP_SERVER_VERSIONS[0]}); to upgrade, re-check each patch ` +
      'against the new release and add its version there.',
  );
}

/** The `version` of the smtp-server package Node resolves from here. */
export function installedSmtpServerVersion(): string {
  // smtp-server's `exports` lists ./package.json, so it can be required by name.
  const manifest: unknown = createRequire(import.meta.url)('smtp-server/package.json');
  const version = (manifest as { version?: unknown } | null)?.version;
  return typeof version === 'string' ? version : 'of unknown version';
}

type Connection = SMTPServer['connections'] extends Set<infer C> ? C : never;

export interface PatchOptions {
  /** Wait before the 220 greeting (POSTWARDEN_SMTP_GREETING_DELAY); default 0. */
  greetingDelayMs?: number | undefined;
  /** Patch 5: a malformed AUTH exchange was refused; return true to close instead. */
  onMalformedAuth?: ((session: Connection['session']) => boolean) | undefined;
  /** Patch 6: peers that must send a PROXY header first, and may name the client in it. */
  trustedProxies?: BlockList | undefined;
  /** Patch 7: a reply to refuse DATA with before the 354, or undefined to go on. */
  beforeData?: ((session: Connection['session']) => SmtpReply | undefined) | undefined;
}

type ProxyCallback = Parameters<SMTPServer['_handleProxy']>[1];
/** A listed proxy has this long to send its header (it sends it at once). */
const PROXY_HEADER_TIMEOUT_MS = 5000;

/** smtp-server with the patches above; throws on an smtp-server they were not written for. */
export class PatchedSmtpServer extends SMTPServer {
  readonly #trustedProxies: BlockList | undefined;

  constructor(options: SMTPServerOptions, patches: PatchOptions = {}) {
    checkSmtpServerVersion(installedSmtpServerVersion());
    super(options);
    this.#trustedProxies = patches.trustedProxies;
    const greetingDelayMs = patches.greetingDelayMs ?? 0;
    this.connections = new AdaptingSet((connection) => {
      patchReplies(connection, patches.onMalformedAuth);
      refuseDataEarly(connection, patches.beforeData);
      setGreetingDelay(connection, greetingDelayMs);
    });
  }

  /** Patch 6 (see above). The session id is made as smtp-server makes its own. */
  override _handleProxy(socket: Socket, callback: ProxyCallback): void {
    const proxies = this.#trustedProxies;
    if (!proxies || !isInNetworks(proxies, socket.remoteAddress)) {
      super._handleProxy(socket, callback);
      return;
    }
    const id = BigInt(`0x${randomBytes(10).toString('hex')}`)
      .toString(32)
      .padStart(16, '0');
    readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS).then(
      (source) =>
        callback(
          null,
          source.kind === 'proxied'
            ? { id, remoteAddress: source.address, remotePort: source.port }
            : { id },
        ),
      (error: Error) => {
        socket.on('error', () => {});
        socket.end(`421 4.7.0 ${error.message}; a PROXY protocol header is required\r\n`);
        setTimeout(() => socket.destroy(), 1000).unref();
        callback(error);
      },
    );
  }
}

/** `server.connections`, adapting each connection the first time it is added. */
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

/** A reply text that already carries its RFC 3463 code, e.g. `5.7.1 Sender not granted`. */
const LEADING_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

function needsTlsForAuth(connection: Connection): boolean {
  return !connection.secure && !isLoopbackAddress(connection.remoteAddress);
}

/** smtp-server 3.21.6 sasl.js's own 501 replies to a malformed exchange (patch 5). */
const MALFORMED_AUTH_REPLY =
  /^Error: (?:invalid userdata|missing username|syntax: AUTH PLAIN token|syntax: AUTH LOGIN)$/;

/** Patch 7: `handler_DATA` asks `beforeData` first (once there is a recipient). */
function refuseDataEarly(connection: Connection, beforeData: PatchOptions['beforeData']): void {
  if (!beforeData) return;
  const handleData = connection.handler_DATA;
  connection.handler_DATA = function (this: Connection, command, callback) {
    const refusal = this.session.envelope.rcptTo.length ? beforeData(this.session) : undefined;
    if (refusal) {
      this.send(refusal.code, replyText(refusal));
      return callback();
    }
    return handleData.call(this, command, callback);
  };
}

/** Patches 1–3 and 5: `send` and `handler_AUTH`. */
function patchReplies(
  connection: Connection,
  onMalformedAuth: PatchOptions['onMalformedAuth'],
): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    if (code === 501 && typeof data === 'string' && MALFORMED_AUTH_REPLY.test(data)) {
      if (onMalformedAuth?.(connection.session)) {
        return send(
          Replies.tooManyAuthFailures.code,
          replyText(Replies.tooManyAuthFailures),
          false,
        );
      }
    }
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

/**
 * Patch 4: the 220 greeting goes out after `delayMs` (POSTWARDEN_SMTP_GREETING_DELAY,
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
 * The replacement is smtp-server 3.21.6's `init()` with only the fixed wait changed: same
 * socket listeners (and implicit-TLS/upgrade path), same maxClients refusal, then
 * `connectionReady()`, which runs onConnect (per-IP limit, ban check) before greeting.
 */
function setGreetingDelay(connection: Connection, delayMs: number): void {
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
