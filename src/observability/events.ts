/**
 * Stable names for log events (`event` field). fail2ban filters, dashboards and tests
 * match on these; rename only with the consumers.
 */
export const LogEvent = {
  authFailed: 'auth_failed',
  ipBanned: 'ip_banned',
  messageAccepted: 'message_accepted',
  messageRejected: 'message_rejected',
  deliveryAttempt: 'delivery_attempt',
  messageDelivered: 'message_delivered',
  messageDeferred: 'message_deferred',
  messageBounced: 'message_bounced',
  messageExpired: 'message_expired',
  messageRetried: 'message_retried',
  /** An upstream refused our login or configuration: an operator must fix the URL. */
  upstreamError: 'upstream_error',
  queueUnavailable: 'queue_unavailable',
  /** A delivery worker took no waiting job for a while and was replaced (watchdog). */
  workerRecreated: 'worker_recreated',
  durabilityChanged: 'durability_changed',
  /** Containment (CONTRACT §Containment): fields credential, reason (volume|manual). */
  credentialHeld: 'credential_held',
  credentialReleased: 'credential_released',
  deliveryPaused: 'delivery_paused',
  deliveryResumed: 'delivery_resumed',
  messagesPurged: 'messages_purged',
  /** A retention pass deleted final messages past POSTWARDEN_RETENTION (counts only). */
  retentionDeleted: 'retention_deleted',
  retentionFailed: 'retention_failed',
  /** Mail captured before the capture index could not be indexed at start (mailbox page). */
  captureIndexFailed: 'capture_index_failed',
  /** Records without counts at start (data from before the indexes): run `queue reindex`. */
  reindexNeeded: 'reindex_needed',
  /** An operator action, as also written to the audit log. */
  operatorAction: 'operator_action',
  // Lead forms (issue 12): a post the honeypot kept aside / one refused (origin, pow, rate, …).
  formQuarantined: 'form_quarantined',
  formRefused: 'form_refused',
  // Suppressions (issue 13): recipients skipped at delivery / an address added after a bounce.
  messageSuppressed: 'message_suppressed',
  suppressionAdded: 'suppression_added',
  // Webhooks (issue 13): one try of an event (fields webhook, eventId, statusCode|error),
  // an event given up after POSTWARDEN_WEBHOOK_LIFETIME, an endpoint disabled by a 410.
  webhookAttempt: 'webhook_attempt',
  webhookGaveUp: 'webhook_gave_up',
  webhookDisabled: 'webhook_disabled',
  listening: 'listening',
  shutdown: 'shutdown',
} as const;

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) → plain IPv4, as the contract wants in logs. */
export function plainIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
