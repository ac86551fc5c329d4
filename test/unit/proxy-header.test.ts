import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProxyHeader } from '../../src/intake/smtp/proxy-header.js';

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function v2(command: number, family: number, body: number[]): Buffer {
  return Buffer.from([
    ...SIGNATURE,
    0x20 | command,
    family,
    body.length >> 8,
    body.length & 255,
    ...body,
  ]);
}

describe('PROXY protocol header (v1 and v2)', () => {
  it('v1 TCP4 and TCP6: the client address and port, and where SMTP begins', () => {
    const line = 'PROXY TCP4 203.0.113.7 192.0.2.1 40000 25\r\n';
    const parsed = parseProxyHeader(Buffer.from(`${line}EHLO x\r\n`));
    assert.deepEqual(parsed, {
      done: true,
      source: { kind: 'proxied', address: '203.0.113.7', port: 40000 },
      length: line.length,
    });
    const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 40001 587\r\n'));
    assert.deepEqual(six.done && six.source, {
      kind: 'proxied',
      address: '2001:db8::7',
      port: 40001,
    });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), {
      done: true,
      source: { kind: 'local' },
      length: 15,
    });
  });

  it('v2 PROXY over IPv4 and IPv6 (TLVs after the addresses are skipped), LOCAL', () => {
    const four = v2(1, 0x11, [203, 0, 113, 9, 192, 0, 2, 1, 0x9c, 0x41, 0, 25, 0x03, 0, 1, 7]);
    assert.deepEqual(parseProxyHeader(Buffer.concat([four, Buffer.from('EHLO')])), {
      done: true,
      source: { kind: 'proxied', address: '203.0.113.9', port: 40001 },
      length: four.length,
    });
    const address = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
    const six = v2(1, 0x21, [...address, ...address, 0x9c, 0x42, 0, 25]);
    const parsed = parseProxyHeader(six);
    assert.deepEqual(parsed.done && parsed.source, {
      kind: 'proxied',
      address: '2001:db8::7',
      port: 40002,
    });
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 4];
    const plain = parseProxyHeader(v2(1, 0x21, [...mapped, ...mapped, 0, 1, 0, 25]));
    assert.equal(
      plain.done && plain.source.kind === 'proxied' && plain.source.address,
      '198.51.100.4',
    );
    assert.deepEqual(parseProxyHeader(v2(0, 0x00, [])), {
      done: true,
      source: { kind: 'local' },
      length: 16,
    });
  });

  it('waits for the rest of a header that arrived in pieces', () => {
    assert.deepEqual(parseProxyHeader(Buffer.from('PROX')), { done: false });
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7')), { done: false });
    assert.deepEqual(parseProxyHeader(Buffer.from(SIGNATURE.slice(0, 7))), { done: false });
    assert.deepEqual(parseProxyHeader(v2(1, 0x11, [203, 0, 113, 9]).subarray(0, 18)), {
      done: false,
    });
  });

  it('refuses SMTP without a header, malformed lines and addresses, and v2 without a TCP client', () => {
    for (const text of [
      'EHLO client.example\r\n',
      'PROXY TCP4 not-an-ip 192.0.2.1 1 25\r\n',
      'PROXY TCP4 2001:db8::7 192.0.2.1 1 25\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 99999 25\r\n',
      'PROXY TCP4 203.0.113.7 192.0.2.1 1\r\n',
      `PROXY TCP4 ${'1'.repeat(120)}`,
    ]) {
      const parsed = parseProxyHeader(Buffer.from(text));
      assert.equal(parsed.done, false, text);
      assert.ok(!parsed.done && parsed.error, text);
    }
    const udp = parseProxyHeader(v2(1, 0x12, new Array(12).fill(1)));
    assert.ok(!udp.done && udp.error);
    const version1 = Buffer.from(v2(1, 0x11, new Array(12).fill(1)));
    version1[12] = 0x11;
    assert.ok(!parseProxyHeader(version1).done);
  });
});
