/**
 * Every Redis key Postwarden owns (BullMQ's own keys live under
 * `<queuePrefix()>:<queueName()>:`, i.e. `<prefix>:bull:deliveries:`).
 * One function per key, each with what it holds. `prefix` lets tests and several
 * installations share one Redis without touching each other.
 */
export interface Keys {
  /** hash: a message's record (credential name and id, status, sender, subject, createdAt, …). */
  message(id: string): string;
  /** hash: recipient address → JSON {status, detail}; the per-recipient delivered mark. */
  recipients(id: string): string;
  /** list: JSON events {type, at, detail} in order. */
  events(id: string): string;
  /** string: the raw RFC 5322 message as it will be delivered. */
  body(id: string): string;
  /**
   * string with a TTL: a large SMTP body written while it arrives (queue/body-spool.ts),
   * before the message has an id; the stage script renames it to body(id).
   */
  bodySpool(token: string): string;
  /** sorted set: message id scored by createdAt (ms), for listing; retention removes entries. */
  messageIndex(): string;
  /**
   * sorted set: ids of messages the capture upstream kept, scored by capture time (ms);
   * the admin's captured page reads it (queue/capture-index.ts); retention removes entries.
   */
  capturedIndex(): string;
  /**
   * sorted set per message status: id scored by createdAt (or an operator retry's
   * retryFrom, ms) while pending (queued, deferred, held) and by its last event (ms, Redis TIME) once final — so "oldest queued"
   * and retention are ZRANGE by score. Lua builds `statusIndexPrefix() + status`, so any
   * status name works (queue/index-scripts.ts).
   */
  statusIndex(status: string): string;
  statusIndexPrefix(): string;
  /** hash: message status → how many messages have it; updated with statusIndex. */
  statusCounts(): string;
  /**
   * sorted set per lower-cased address (envelope sender, From: address, each recipient):
   * message ids scored by createdAt, trimmed to the newest ADDRESS_INDEX_CAP; search.
   */
  addressIndex(address: string): string;
  addressIndexPrefix(): string;
  /**
   * string: message id for one (credential id, Idempotency-Key), 24 h TTL. By the
   * immutable id, not the name: a re-created name must not inherit the old keys.
   */
  idempotency(credentialId: string, keyHash: string): string;
  /**
   * hash: a credential (id, generation, name, secretHash, allowFrom JSON, allowTo JSON,
   * rate, maxRecipients, createdAt, revoked).
   */
  credential(name: string): string;
  /** set: all credential names. */
  credentialNames(): string;
  /** string: credential name for a secret's hash (bearer lookup). */
  credentialBySecret(secretHash: string): string;
  /** string: counter bumped by every credential change (in-process caches check it). */
  credentialsVersion(): string;
  /**
   * hash: relay settings (passwordHash: the admin password's scrypt hash;
   * passwordGeneration: +1 per change, admin sessions compare it); SettingsStore.
   */
  settings(): string;
  /** hash {csrf, createdAt, generation}: one admin session, by the SHA-256 of its cookie value; TTL = idle expiry. */
  adminSession(idHash: string): string;
  /** prefix for abuse-guard keys (failure counters, bans). */
  abusePrefix(): string;
  /** prefix for rate-limiter keys. */
  ratePrefix(): string;
  /** hash: the last `postwarden selftest` result (ok 1/0, at, lastSuccessAt unix seconds); SettingsStore. */
  selftestResult(): string;
  /** hash {accepted, delivered}: counts for one minute (epoch minute), TTL 2 h. */
  throughputMinute(minute: number): string;
  /** hash: `<upstream label>\t<field>` → each upstream's last success and last error. */
  upstreamStatus(): string;
  /** hash protocol → failed logins in one hour (epoch hour), TTL 25 h (attack view). */
  attackHour(hour: number): string;
  /** sorted set: client address → failed logins in one hour, capped, TTL 25 h. */
  attackAddresses(hour: number): string;
  /** sorted set: user name tried → failed logins in one hour, capped, TTL 25 h. */
  attackUsers(hour: number): string;
  /** list: JSON ban events, newest first, capped (the attack view's timeline). */
  attackBans(): string;
  /** hash {reason, detail, at}: a credential on hold (containment); absent = not held. */
  hold(credential: string): string;
  /** set: names of the credentials on hold now (postwarden_credentials_held = SCARD). */
  heldCredentials(): string;
  /** set: ids of one credential's held messages (POSTWARDEN_HOLD_MAX, release, purge). */
  heldMessages(credential: string): string;
  /** set: ids of every held message (postwarden_messages_held = SCARD). */
  heldAll(): string;
  /** hash: epoch minute → messages accepted then, one credential; fields older than an hour are pruned at each accept. */
  holdVolume(credential: string): string;
  /** hash: hold reason (volume, manual) → holds so far (postwarden_holds_total). */
  holdsTotal(): string;
  /** hash {reason, at, actor}: why delivery is paused (the flag itself is BullMQ's queue pause). */
  pauseInfo(): string;
  /** list: JSON audit entries of operator actions, newest first, capped (AuditLog). */
  auditLog(): string;
  // Lead forms (issue 12).
  /** hash: one lead form by its public id (name, to/origins JSON, from, subject, redirect, rate, pow, createdAt). */
  form(id: string): string;
  /** hash: form name → public id (names are unique; listing reads this one key). */
  formIds(): string;
  /** hash: one quarantined form post (form, credential, envelope, from, subject, messageId, createdAt, raw). */
  formSpam(id: string): string;
  /** sorted set: quarantined form post ids scored by createdAt (ms); removed on release. */
  formSpamIndex(): string;
  /** string: the HMAC secret that signs ALTCHA challenges, shared by every intake (SET NX). */
  formPowSecret(): string;
  /** string: a spent ALTCHA solution (by its challenge signature); TTL = the challenge's expiry. */
  formPowSpent(signature: string): string;
  // Suppressions (issue 13). `owner` is a credential's immutable id (a re-created name
  // starts with an empty list) or a form principal `form:NAME`.
  /** hash: suppressed address (domain lower-cased) → JSON {address, reason, source, at, credential}. */
  suppressions(owner: string): string;
  /** sorted set, all scores 0: one owner's suppressed addresses, for lexical cursor pages. */
  suppressionIndex(owner: string): string;
  /** sorted set, all scores 0: `<owner>\t<address>` of every list; ZCARD = postwarden_suppressions. */
  suppressionsAll(): string;
  // Webhooks (issue 13).
  /**
   * hash: one webhook endpoint (id, url, credentialId, credentialName, events JSON, secret,
   * previousSecret, previousUntil ms, disabled '1', disabledReason, createdAt). The secrets
   * are stored usable: signing needs them.
   */
  webhookEndpoint(id: string): string;
  /** set: every webhook endpoint id (listing, the dispatcher's matching). */
  webhookEndpoints(): string;
  /**
   * set: event types (`message.delivered`, …) some enabled endpoint wants; rewritten from
   * webhookEnabledEvents in the same script as every change of it. The outbox Lua writes
   * only these, so a relay without webhooks writes nothing.
   */
  webhookWanted(): string;
  /** hash: enabled endpoint id → its event types (JSON); the source of webhookWanted. */
  webhookEnabledEvents(): string;
  /** list: JSON webhook events written atomically with the outcome that caused them (outbox). */
  webhookOutbox(): string;
  /** string: counter giving each outbox event its id (`ev<N>`, the `webhook-id`). */
  webhookEventSeq(): string;
  /** list: one endpoint's recent attempts, newest first, capped (admin page). */
  webhookAttempts(id: string): string;
  /** The BullMQ queue name of webhook sends (same prefix as deliveries). */
  webhookQueueName(): string;
  /** The BullMQ queue name and prefix used for delivery jobs. */
  queueName(): string;
  queuePrefix(): string;
}

export function createKeys(prefix = 'pw'): Keys {
  return {
    message: (id) => `${prefix}:msg:${id}`,
    recipients: (id) => `${prefix}:msg:${id}:rcpt`,
    events: (id) => `${prefix}:msg:${id}:events`,
    body: (id) => `${prefix}:msg:${id}:body`,
    bodySpool: (token) => `${prefix}:spool:${token}`,
    messageIndex: () => `${prefix}:messages`,
    capturedIndex: () => `${prefix}:captured`,
    statusIndex: (status) => `${prefix}:by-status:${status}`,
    statusIndexPrefix: () => `${prefix}:by-status:`,
    statusCounts: () => `${prefix}:status-counts`,
    addressIndex: (address) => `${prefix}:by-addr:${lowerAscii(address)}`,
    addressIndexPrefix: () => `${prefix}:by-addr:`,
    idempotency: (credentialId, keyHash) => `${prefix}:idem:${credentialId}:${keyHash}`,
    credential: (name) => `${prefix}:cred:${name}`,
    credentialNames: () => `${prefix}:creds`,
    credentialBySecret: (secretHash) => `${prefix}:cred-by-secret:${secretHash}`,
    credentialsVersion: () => `${prefix}:creds-version`,
    // `:admin` is the settings hash's name since the first release: kept, so upgrades keep the password.
    settings: () => `${prefix}:admin`,
    adminSession: (idHash) => `${prefix}:admin:session:${idHash}`,
    abusePrefix: () => `${prefix}:abuse`,
    ratePrefix: () => `${prefix}:rate`,
    selftestResult: () => `${prefix}:selftest`,
    throughputMinute: (minute) => `${prefix}:activity:tp:${minute}`,
    upstreamStatus: () => `${prefix}:activity:upstreams`,
    attackHour: (hour) => `${prefix}:attack:h:${hour}`,
    attackAddresses: (hour) => `${prefix}:attack:ips:${hour}`,
    attackUsers: (hour) => `${prefix}:attack:users:${hour}`,
    attackBans: () => `${prefix}:attack:bans`,
    hold: (credential) => `${prefix}:hold:${credential}`,
    heldCredentials: () => `${prefix}:holds`,
    heldMessages: (credential) => `${prefix}:held:${credential}`,
    heldAll: () => `${prefix}:held-all`,
    holdVolume: (credential) => `${prefix}:hold-volume:${credential}`,
    holdsTotal: () => `${prefix}:holds-total`,
    pauseInfo: () => `${prefix}:pause`,
    auditLog: () => `${prefix}:audit`,
    form: (id) => `${prefix}:form:${id}`,
    formIds: () => `${prefix}:forms`,
    formSpam: (id) => `${prefix}:form-spam:${id}`,
    formSpamIndex: () => `${prefix}:form-spam`,
    formPowSecret: () => `${prefix}:form-pow-secret`,
    formPowSpent: (signature) => `${prefix}:form-pow-spent:${signature}`,
    suppressions: (owner) => `${prefix}:supp:${owner}`,
    suppressionIndex: (owner) => `${prefix}:supp-index:${owner}`,
    suppressionsAll: () => `${prefix}:supp-all`,
    webhookEndpoint: (id) => `${prefix}:webhook:${id}`,
    webhookEndpoints: () => `${prefix}:webhooks`,
    webhookWanted: () => `${prefix}:webhooks-wanted`,
    webhookEnabledEvents: () => `${prefix}:webhooks-enabled`,
    webhookOutbox: () => `${prefix}:webhook-outbox`,
    webhookEventSeq: () => `${prefix}:webhook-seq`,
    webhookAttempts: (id) => `${prefix}:webhook:${id}:attempts`,
    webhookQueueName: () => 'webhooks',
    queueName: () => 'deliveries',
    queuePrefix: () => `${prefix}:bull`,
  };
}

/**
 * Addresses as the address index keys them: ASCII letters lower-cased, nothing else — the
 * same as Lua's string.lower, so JS and the scripts agree byte for byte.
 */
export function lowerAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
