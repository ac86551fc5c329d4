import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyError,
  classifyReplyCode,
  resultsFromTransaction,
} from '../../src/upstream/smtp-replies.js';

describe('classifyReplyCode', () => {
  it('maps 2xx to delivered, 5xx to bounced and 4xx to deferred', () => {
    assert.equal(classifyReplyCode(250), 'delivered');
    assert.equal(classifyReplyCode(251), 'delivered');
    assert.equal(classifyReplyCode(550), 'bounced');
    assert.equal(classifyReplyCode(554), 'bounced');
    assert.equal(classifyReplyCode(451), 'deferred');
    assert.equal(classifyReplyCode(421), 'deferred');
  });

  it('defers replies that judge our session rather than the message (503, 530 auth required)', () => {
    assert.equal(classifyReplyCode(503), 'deferred');
    assert.equal(classifyReplyCode(530), 'deferred');
    assert.equal(classifyReplyCode(354), 'deferred');
  });
});

describe('classifyError', () => {
  it('uses the reply code of an SMTP refusal', () => {
    const verdict = classifyError({
      message: 'Recipient command failed',
      code: 'EENVELOPE',
      responseCode: 550,
      response: '550 5.1.1 no such user',
    });
    assert.deepEqual(verdict, {
      outcome: 'bounced',
      detail: '550 5.1.1 no such user',
      misconfiguration: false,
    });
    assert.equal(
      classifyError({ message: 'x', code: 'EMESSAGE', responseCode: 452 }).outcome,
      'deferred',
    );
  });

  it('defers connection, timeout and TLS failures even when they quote a 5xx reply', () => {
    for (const code of ['ESOCKET', 'ECONNECTION', 'ETIMEDOUT', 'EDNS']) {
      assert.equal(classifyError({ message: 'gone', code }).outcome, 'deferred', code);
    }
    // STARTTLS refused with 5xx by a server that does not offer it: never a bounce.
    const tls = classifyError({
      message: 'Error upgrading connection with STARTTLS',
      code: 'ETLS',
      responseCode: 502,
      response: '502 5.5.2 command not recognized',
    });
    assert.equal(tls.outcome, 'deferred');
    assert.equal(tls.misconfiguration, false);
  });

  it('defers and flags our misconfiguration: failed or impossible login, auth required', () => {
    const auth = classifyError({ message: 'Invalid login', code: 'EAUTH', responseCode: 535 });
    assert.equal(auth.outcome, 'deferred');
    assert.equal(auth.misconfiguration, true);
    assert.equal(classifyError({ message: 'x', code: 'ECONFIG' }).misconfiguration, true);
    const required = classifyError({ message: 'm', code: 'EENVELOPE', responseCode: 530 });
    assert.deepEqual([required.outcome, required.misconfiguration], ['deferred', true]);
  });

  it('treats an error without a reply code as transient', () => {
    assert.equal(classifyError({ message: 'something odd' }).outcome, 'deferred');
  });
});

describe('resultsFromTransaction', () => {
  const recipients = ['ok@x.test', 'later@x.test', 'gone@x.test', 'silent@x.test'];
  const rejectedErrors = [
    {
      message: 'r',
      code: 'EENVELOPE',
      responseCode: 451,
      response: '451 later',
      recipient: 'later@x.test',
    },
    {
      message: 'r',
      code: 'EENVELOPE',
      responseCode: 550,
      response: '550 gone',
      recipient: 'GONE@x.test',
    },
  ];

  it('gives each recipient its RCPT refusal or the end-of-DATA reply', () => {
    const results = resultsFromTransaction(recipients, {
      accepted: ['ok@x.test'],
      rejectedErrors,
      final: { ok: true, response: '250 2.0.0 queued as A1' },
    });
    assert.deepEqual(results, [
      { address: 'ok@x.test', outcome: 'delivered', detail: '250 2.0.0 queued as A1' },
      { address: 'later@x.test', outcome: 'deferred', detail: '451 later' },
      { address: 'gone@x.test', outcome: 'bounced', detail: '550 gone' },
      {
        address: 'silent@x.test',
        outcome: 'deferred',
        detail: 'no reply from the upstream for this recipient',
      },
    ]);
  });

  it('applies an error after DATA only to the recipients accepted at RCPT', () => {
    const results = resultsFromTransaction(recipients.slice(0, 3), {
      accepted: ['ok@x.test'],
      rejectedErrors,
      final: {
        ok: false,
        error: {
          message: 'Message failed',
          code: 'EMESSAGE',
          responseCode: 554,
          response: '554 spam',
        },
      },
    });
    assert.deepEqual(
      results.map((r) => [r.address, r.outcome]),
      [
        ['ok@x.test', 'bounced'],
        ['later@x.test', 'deferred'],
        ['gone@x.test', 'bounced'],
      ],
    );
    const timeout = resultsFromTransaction(['ok@x.test'], {
      accepted: ['ok@x.test'],
      rejectedErrors: [],
      final: { ok: false, error: { message: 'Timeout', code: 'ETIMEDOUT' } },
    });
    assert.equal(timeout[0]?.outcome, 'deferred');
  });
});
