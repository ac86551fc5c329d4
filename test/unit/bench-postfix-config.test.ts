import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type PostfixBenchConfig,
  renderMainCf,
  renderMasterCf,
  renderSenderLoginMap,
} from '../../bench/postfix/config.js';
import { answerLine, decodePlain, handshake } from '../../bench/postfix/dovecot-auth.js';

const config: PostfixBenchConfig = {
  configDir: '/tmp/pf/etc',
  queueDir: '/tmp/pf/spool',
  dataDir: '/tmp/pf/lib',
  smtpPort: 40025,
  sinkPort: 40026,
  certFile: '/tmp/pf/etc/cert.pem',
  keyFile: '/tmp/pf/etc/key.pem',
  saslSocket: '/tmp/pf/auth.sock',
  senderLoginMapFile: '/tmp/pf/etc/sender-login',
  maillogFile: '/tmp/pf/maillog',
};

function settings(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [name, ...rest] = line.split('=');
    assert.ok(name && !map.has(name.trim()), `duplicate or empty setting in: ${line}`);
    map.set(name.trim(), rest.join('=').trim());
  }
  return map;
}

describe('Postfix reference configuration (issue 5: it can send nowhere but the sink)', () => {
  const main = settings(renderMainCf(config));

  it('listens on loopback IPv4 only, in its own queue and data directories', () => {
    assert.equal(main.get('inet_interfaces'), 'loopback-only');
    assert.equal(main.get('inet_protocols'), 'ipv4');
    assert.equal(main.get('queue_directory'), '/tmp/pf/spool');
    assert.equal(main.get('data_directory'), '/tmp/pf/lib');
    const master = renderMasterCf(config);
    const listeners = master.split('\n').filter((line) => / inet /.test(line));
    assert.deepEqual(listeners, ['127.0.0.1:40025 inet n - n - - smtpd']);
    assert.doesNotMatch(master, /\bpipe\b|\blocal\b|\bvirtual\b/);
  });

  it('relays everything to the sink on 127.0.0.1 and nothing is local', () => {
    assert.equal(main.get('mydestination'), '');
    assert.equal(main.get('relayhost'), '[127.0.0.1]:40026');
    assert.equal(main.get('default_transport'), 'smtp');
    assert.equal(main.get('relay_transport'), 'smtp');
    assert.equal(main.get('fallback_relay'), '');
    assert.match(main.get('local_transport') ?? '', /^error:/);
  });

  it('makes no DNS queries and no TLS toward the sink', () => {
    assert.equal(main.get('disable_dns_lookups'), 'yes');
    assert.equal(main.get('smtp_dns_support_level'), 'disabled');
    assert.equal(main.get('smtp_host_lookup'), 'native');
    assert.equal(main.get('smtpd_peername_lookup'), 'no');
    assert.equal(main.get('smtp_tls_security_level'), 'none');
  });

  it('relays only for SASL-authenticated clients, AUTH only after STARTTLS, senders as granted', () => {
    assert.equal(main.get('smtpd_relay_restrictions'), 'permit_sasl_authenticated, reject');
    assert.equal(main.get('smtpd_recipient_restrictions'), 'permit_sasl_authenticated, reject');
    assert.equal(main.get('smtpd_tls_auth_only'), 'yes');
    assert.equal(main.get('smtpd_sasl_type'), 'dovecot');
    assert.equal(main.get('smtpd_sasl_path'), '/tmp/pf/auth.sock');
    assert.equal(main.get('smtpd_sender_restrictions'), 'reject_sender_login_mismatch');
    assert.equal(main.get('smtpd_sender_login_maps'), 'regexp:/tmp/pf/etc/sender-login');
    assert.equal(renderSenderLoginMap('bench'), '/^[^@]+@example\\.com$/ bench\n');
  });
});

describe('Dovecot-protocol SASL helper for the Postfix reference', () => {
  const login = { user: 'bench', password: 'pw_x' };
  const plain = (authzid: string, user: string, password: string) =>
    Buffer.from(`${authzid}\0${user}\0${password}`).toString('base64');

  it('greets with version 1, the PLAIN mechanism and DONE', () => {
    const lines = handshake(7).split('\n');
    assert.equal(lines[0], 'VERSION\t1\t2');
    assert.ok(lines.includes('MECH\tPLAIN\tplaintext'));
    assert.equal(lines.at(-2), 'DONE');
  });

  it('accepts the right PLAIN login with the user name and refuses others', () => {
    const auth = (resp: string) =>
      answerLine(`AUTH\t9\tPLAIN\tservice=smtp\tnologin\tsecured\tresp=${resp}`, login);
    assert.equal(auth(plain('', 'bench', 'pw_x')), 'OK\t9\tuser=bench\n');
    assert.match(auth(plain('', 'bench', 'wrong')) ?? '', /^FAIL\t9\t/);
    assert.match(auth(plain('', 'other', 'pw_x')) ?? '', /^FAIL\t9\t/);
    assert.match(auth(plain('other', 'bench', 'pw_x')) ?? '', /^FAIL\t9\t/);
    assert.match(auth('%%%') ?? '', /^FAIL\t9\t/);
  });

  it('asks for the response when there is no initial one, and refuses other mechanisms', () => {
    assert.equal(answerLine('AUTH\t3\tPLAIN\tservice=smtp', login), 'CONT\t3\t\n');
    assert.equal(
      answerLine(`CONT\t3\t${plain('', 'bench', 'pw_x')}`, login),
      'OK\t3\tuser=bench\n',
    );
    assert.match(answerLine('AUTH\t4\tLOGIN\tservice=smtp', login) ?? '', /^FAIL\t4\t/);
    assert.equal(answerLine('VERSION\t1\t0', login), undefined);
    assert.deepEqual(decodePlain(plain('', 'a', 'b')), { authzid: '', user: 'a', password: 'b' });
  });
});
