/**
 * The Postfix configuration used as the benchmark reference (issue 5): the same relay
 * as Postwarden — STARTTLS + SASL AUTH PLAIN for submission, senders limited to
 * `*@example.com` for the bench login, everything relayed to the counting sink — and
 * nothing else. Pure text generation, so the safety settings are unit-tested.
 */

export interface PostfixBenchConfig {
  /** The instance's own config directory (holds main.cf, master.cf, the TLS pair). */
  configDir: string;
  queueDir: string;
  dataDir: string;
  /** Loopback port smtpd listens on. */
  smtpPort: number;
  /** The counting sink on 127.0.0.1 — the only place mail may go. */
  sinkPort: number;
  certFile: string;
  keyFile: string;
  /** Absolute path of the dovecot-protocol SASL socket. */
  saslSocket: string;
  /** File of `regexp:` sender-login rules (see senderLoginMap). */
  senderLoginMapFile: string;
  maillogFile: string;
}

/**
 * main.cf. Every setting that keeps mail from leaving the machine is explicit:
 * loopback-only listener, IPv4 only, empty mydestination (nothing is local), relayhost
 * and every transport pointing at the sink, no DNS anywhere, relaying only for SASL-
 * authenticated clients.
 */
export function renderMainCf(config: PostfixBenchConfig): string {
  const settings: [string, string][] = [
    ['compatibility_level', '3.6'],
    ['queue_directory', config.queueDir],
    ['data_directory', config.dataDir],
    ['mail_owner', 'postfix'],
    ['setgid_group', 'postdrop'],
    ['myhostname', 'postfix-bench.localdomain'],
    ['mydomain', 'localdomain'],
    ['myorigin', 'postfix-bench.localdomain'],
    ['inet_interfaces', 'loopback-only'],
    ['inet_protocols', 'ipv4'],
    ['mydestination', ''],
    ['local_recipient_maps', ''],
    ['local_transport', 'error:local delivery is disabled'],
    ['alias_maps', ''],
    ['alias_database', ''],
    ['relay_domains', ''],
    ['mynetworks', '127.0.0.1/32'],
    // Everything goes to the sink, whatever the recipient domain.
    ['relayhost', `[127.0.0.1]:${config.sinkPort}`],
    ['default_transport', 'smtp'],
    ['relay_transport', 'smtp'],
    ['transport_maps', ''],
    ['fallback_relay', ''],
    // No DNS: neither for the next hop nor for client names.
    ['disable_dns_lookups', 'yes'],
    ['smtp_dns_support_level', 'disabled'],
    ['smtp_host_lookup', 'native'],
    ['lmtp_host_lookup', 'native'],
    ['smtpd_peername_lookup', 'no'],
    ['smtp_tls_security_level', 'none'],
    ['smtp_sasl_auth_enable', 'no'],
    ['append_dot_mydomain', 'no'],
    ['biff', 'no'],
    ['notify_classes', ''],
    ['maillog_file', config.maillogFile],
    ['maillog_file_prefixes', config.maillogFile.slice(0, config.maillogFile.lastIndexOf('/'))],
    // Submission: STARTTLS offered, AUTH only after it, PLAIN via the dovecot protocol.
    ['smtpd_tls_cert_file', config.certFile],
    ['smtpd_tls_key_file', config.keyFile],
    ['smtpd_tls_security_level', 'may'],
    ['smtpd_tls_auth_only', 'yes'],
    ['smtpd_tls_session_cache_database', ''],
    ['smtpd_sasl_auth_enable', 'yes'],
    ['smtpd_sasl_type', 'dovecot'],
    ['smtpd_sasl_path', config.saslSocket],
    ['smtpd_sasl_security_options', 'noanonymous'],
    ['smtpd_sasl_tls_security_options', 'noanonymous'],
    // The same sender rule as the relay's credential (`*@example.com`).
    ['smtpd_sender_login_maps', `regexp:${config.senderLoginMapFile}`],
    ['smtpd_client_restrictions', ''],
    ['smtpd_helo_restrictions', ''],
    ['smtpd_sender_restrictions', 'reject_sender_login_mismatch'],
    ['smtpd_relay_restrictions', 'permit_sasl_authenticated, reject'],
    ['smtpd_recipient_restrictions', 'permit_sasl_authenticated, reject'],
    ['message_size_limit', String(26_214_400)],
  ];
  return `${settings.map(([name, value]) => `${name} = ${value}`.trimEnd()).join('\n')}\n`;
}

/**
 * master.cf: the stock Debian services minus the pipe/local-mailbox ones, unchrooted
 * (the instance lives in a temp dir, not under /var/spool/postfix), smtpd on the given
 * loopback port only.
 */
export function renderMasterCf(config: Pick<PostfixBenchConfig, 'smtpPort'>): string {
  const lines = [
    `127.0.0.1:${config.smtpPort} inet n - n - - smtpd`,
    'pickup    unix  n       -       n       60      1       pickup',
    'cleanup   unix  n       -       n       -       0       cleanup',
    'qmgr      unix  n       -       n       300     1       qmgr',
    'tlsmgr    unix  -       -       n       1000?   1       tlsmgr',
    'rewrite   unix  -       -       n       -       -       trivial-rewrite',
    'bounce    unix  -       -       n       -       0       bounce',
    'defer     unix  -       -       n       -       0       bounce',
    'trace     unix  -       -       n       -       0       bounce',
    'verify    unix  -       -       n       -       1       verify',
    'flush     unix  n       -       n       1000?   0       flush',
    'proxymap  unix  -       -       n       -       -       proxymap',
    'proxywrite unix -       -       n       -       1       proxymap',
    'smtp      unix  -       -       n       -       -       smtp',
    'relay     unix  -       -       n       -       -       smtp',
    'showq     unix  n       -       n       -       -       showq',
    'error     unix  -       -       n       -       -       error',
    'retry     unix  -       -       n       -       -       error',
    'discard   unix  -       -       n       -       -       discard',
    'anvil     unix  -       -       n       -       1       anvil',
    'scache    unix  -       -       n       -       1       scache',
    'postlog   unix-dgram n  -       n       -       1       postlogd',
  ];
  return `${lines.join('\n')}\n`;
}

/** The regexp: sender-login map: any `@example.com` sender belongs to `login`. */
export function renderSenderLoginMap(login: string): string {
  return `/^[^@]+@example\\.com$/ ${login}\n`;
}
