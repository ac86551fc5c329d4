import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkWebhookTarget,
  isPrivateAddress,
  type Resolver,
} from '../../src/security/webhook-target.js';

/** A resolver that knows a few names and never asks DNS. */
const names: Record<string, string[]> = {
  'loopback.test': ['127.0.0.1'],
  'mixed.test': ['93.184.215.14', '10.0.0.5'],
  'public.test': ['93.184.215.14'],
  'v6loop.test': ['::1'],
};
const resolve: Resolver = async (host) => {
  const addresses = names[host];
  if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('webhook SSRF guard', () => {
  const refused = [
    'http://127.0.0.1/hook',
    'http://127.1.2.3:8080/hook',
    'http://[::1]/hook',
    'http://10.1.2.3/hook',
    'http://172.16.0.1/hook',
    'http://172.31.255.255/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[fe80::1]/hook',
    'http://[fd00::1]/hook',
    'http://[fc00::1]/hook',
    'http://0.0.0.0/hook',
    'http://[::]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:10.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://loopback.test/hook',
    'http://v6loop.test/hook',
    'http://mixed.test/hook',
  ];
  for (const url of refused) {
    it(`refuses ${url} without the switch, with a reason naming the setting`, async () => {
      const check = await checkWebhookTarget(url, { allowPrivate: false, resolve });
      assert.equal(check.ok, false);
      assert.match(check.ok ? '' : check.reason, /POSTWARDEN_WEBHOOK_ALLOW_PRIVATE/);
    });
  }

  it('allows the same loopback and private targets with the switch on', async () => {
    for (const url of ['http://127.0.0.1/hook', 'http://loopback.test/hook', 'http://[::1]/x']) {
      const check = await checkWebhookTarget(url, { allowPrivate: true, resolve });
      assert.ok(check.ok, url);
    }
  });

  it('allows a public address and pins the request to the address it checked', async () => {
    const check = await checkWebhookTarget('https://public.test/hook', {
      allowPrivate: false,
      resolve,
    });
    assert.ok(check.ok);
    assert.equal(check.target.address, '93.184.215.14');
    assert.equal(check.target.url.hostname, 'public.test');
  });

  it('refuses other schemes, credentials in the URL, unresolvable names and non-URLs', async () => {
    for (const url of [
      'ftp://public.test/x',
      'file:///etc/passwd',
      'http://user:pw@public.test/x',
      'http://nowhere.test/x',
      'not a url',
    ]) {
      const check = await checkWebhookTarget(url, { allowPrivate: true, resolve });
      assert.equal(check.ok, false, url);
    }
  });

  it('reads addresses precisely at the range edges', () => {
    assert.equal(isPrivateAddress('172.15.255.255'), false);
    assert.equal(isPrivateAddress('172.32.0.0'), false);
    assert.equal(isPrivateAddress('169.253.255.255'), false);
    assert.equal(isPrivateAddress('8.8.8.8'), false);
    assert.equal(isPrivateAddress('2001:db8::1'), false);
    assert.equal(isPrivateAddress('fe80::1'), true);
    assert.equal(isPrivateAddress('febf::1'), true);
    assert.equal(isPrivateAddress('fec0::1'), false);
    assert.equal(isPrivateAddress('not-an-ip'), true);
    // IPv4-mapped IPv6 is read as the IPv4 address it carries.
    assert.equal(isPrivateAddress('::ffff:7f00:1'), true);
    assert.equal(isPrivateAddress('::ffff:a9fe:a9fe'), true);
    assert.equal(isPrivateAddress('::ffff:8.8.8.8'), false);
    assert.equal(isPrivateAddress('::127.0.0.1'), true);
  });
});
