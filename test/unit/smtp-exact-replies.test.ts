import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PatchedSmtpServer } from '../../src/intake/smtp/smtp-server-patches.js';
import { testTlsPair } from '../support/tls.js';

type Sent = [number, unknown, unknown];

/** A stand-in for smtp-server's connection with the members the adapter touches. */
function fakeConnection(remoteAddress: string, secure: boolean) {
  const sent: Sent[] = [];
  const authCalls: string[] = [];
  const connection = {
    remoteAddress,
    secure,
    send(code: number, data: unknown, context: unknown) {
      sent.push([code, data, context]);
    },
    handler_AUTH(command: Buffer, callback: () => void) {
      authCalls.push(command.toString());
      callback();
    },
  };
  return { connection, sent, authCalls };
}

async function adapted(remoteAddress: string, secure: boolean) {
  const tls = await testTlsPair();
  const server = new PatchedSmtpServer({ ...tls, logger: false, disableReverseLookup: true });
  const fake = fakeConnection(remoteAddress, secure);
  server.connections.add(fake.connection as never);
  return fake;
}

describe('PatchedSmtpServer reply patches', () => {
  it('sends our enhanced code as written and leaves the library its own mapping otherwise', async () => {
    const { connection, sent } = await adapted('127.0.0.1', false);
    connection.send(553, '5.7.1 Sender not granted', undefined);
    connection.send(250, 'Accepted', 'MAIL_FROM_OK');
    assert.deepEqual(sent, [
      [553, '5.7.1 Sender not granted', false],
      [250, 'Accepted', 'MAIL_FROM_OK'],
    ]);
  });

  it('hides AUTH from EHLO and refuses AUTH with 538 5.7.11 for cleartext non-loopback clients', async () => {
    const { connection, sent, authCalls } = await adapted('203.0.113.9', false);
    connection.send(
      250,
      ['relay.test Nice to meet you', 'PIPELINING', 'AUTH PLAIN LOGIN', 'STARTTLS'],
      false,
    );
    connection.handler_AUTH(Buffer.from('AUTH LOGIN'), () => {});
    assert.deepEqual(sent[0], [
      250,
      ['relay.test Nice to meet you', 'PIPELINING', 'STARTTLS'],
      false,
    ]);
    assert.equal(sent[1]?.[0], 538);
    assert.match(String(sent[1]?.[1]), /^5\.7\.11 /);
    assert.deepEqual(authCalls, [], 'no SASL exchange starts, so no password is asked for');
  });

  it('keeps AUTH for loopback clients and over TLS', async () => {
    for (const [ip, secure] of [
      ['127.0.0.1', false],
      ['203.0.113.9', true],
    ] as const) {
      const { connection, sent, authCalls } = await adapted(ip, secure);
      connection.send(250, ['relay.test', 'AUTH PLAIN LOGIN'], false);
      connection.handler_AUTH(Buffer.from('AUTH PLAIN'), () => {});
      assert.deepEqual(sent, [[250, ['relay.test', 'AUTH PLAIN LOGIN'], false]]);
      assert.deepEqual(authCalls, ['AUTH PLAIN']);
    }
  });
});
