import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { splitAddressList } from '../../src/intake/http/dialects/address-list.js';
import { postmarkError } from '../../src/intake/http/dialects/postmark-errors.js';
import { postmarkToMessageRequest } from '../../src/intake/http/dialects/postmark-mapping.js';
import { resendError } from '../../src/intake/http/dialects/resend-errors.js';
import { resendToMessageRequest } from '../../src/intake/http/dialects/resend-mapping.js';
import { denialAnswer } from '../../src/intake/http/errors.js';
import { type DenialCode, deny } from '../../src/security/verdict.js';

const ALL_DENIALS: DenialCode[] = [
  'unauthorized',
  'banned',
  'sender_not_allowed',
  'header_sender_not_allowed',
  'recipient_not_allowed',
  'too_large',
  'too_many_recipients',
  'rate_limited',
  'credential_held',
  'invalid_request',
  'queue_unavailable',
];

const withKey = { headers: { authorization: 'Bearer x' } } as unknown as FastifyRequest;
const withoutKey = { headers: {} } as unknown as FastifyRequest;

function answer(code: DenialCode) {
  return { ...denialAnswer(deny(code, 'm')), message: 'm' };
}

describe('Resend error table', () => {
  const RESEND_NAMES = new Set([
    'invalid_idempotency_key',
    'validation_error',
    'missing_api_key',
    'restricted_api_key',
    'invalid_api_key',
    'not_found',
    'method_not_allowed',
    'invalid_idempotent_request',
    'concurrent_idempotent_requests',
    'invalid_attachment',
    'invalid_from_address',
    'invalid_access',
    'invalid_parameter',
    'invalid_region',
    'missing_required_field',
    'monthly_quota_exceeded',
    'daily_quota_exceeded',
    'rate_limit_exceeded',
    'security_error',
    'application_error',
    'internal_server_error',
  ]);

  it('gives every denial a name from the SDK’s own list and an error status', () => {
    for (const code of ALL_DENIALS) {
      const error = resendError(withKey, answer(code));
      assert.ok(RESEND_NAMES.has(error.name), `${code} → ${error.name}`);
      assert.ok(error.statusCode >= 400, `${code} → ${error.statusCode}`);
    }
  });

  it('tells a missing key (401) from a wrong one (403), as Resend does', () => {
    assert.equal(resendError(withoutKey, answer('unauthorized')).name, 'missing_api_key');
    assert.equal(resendError(withoutKey, answer('unauthorized')).statusCode, 401);
    assert.equal(resendError(withKey, answer('unauthorized')).name, 'invalid_api_key');
    assert.equal(resendError(withKey, answer('unauthorized')).statusCode, 403);
  });

  it('keeps the meaning of temporary refusals: 429 and 503 stay retryable', () => {
    assert.deepEqual(
      { ...resendError(withKey, answer('rate_limited')) },
      { statusCode: 429, name: 'rate_limit_exceeded', message: 'm' },
    );
    assert.equal(resendError(withKey, answer('credential_held')).statusCode, 429);
    assert.deepEqual(
      { ...resendError(withKey, answer('queue_unavailable')) },
      { statusCode: 503, name: 'application_error', message: 'm' },
    );
    // A code another part of the relay adds later is named by its status.
    const busy = resendError(withKey, { status: 503, code: 'server_busy', message: 'm' });
    assert.deepEqual(
      { status: busy.statusCode, name: busy.name },
      { status: 503, name: 'application_error' },
    );
    assert.equal(resendError(withKey, answer('invalid_request')).statusCode, 422);
  });
});

describe('Postmark error table', () => {
  it('gives every denial an error status and a non-zero ErrorCode (0 means OK)', () => {
    for (const code of ALL_DENIALS) {
      const { status, body } = postmarkError(answer(code));
      assert.ok(status >= 400, `${code} → ${status}`);
      assert.notEqual(body.ErrorCode, 0, code);
    }
  });

  it('uses Postmark’s codes where Postmark has them', () => {
    const codes = Object.fromEntries(
      ALL_DENIALS.map((code) => {
        const { status, body } = postmarkError(answer(code));
        return [code, `${status}/${body.ErrorCode}`];
      }),
    );
    assert.equal(codes.unauthorized, '401/10');
    assert.equal(codes.invalid_request, '422/300');
    assert.equal(codes.sender_not_allowed, '422/400');
    assert.equal(codes.header_sender_not_allowed, '422/400');
    assert.equal(codes.recipient_not_allowed, '422/406');
    assert.equal(codes.rate_limited, '429/429');
    assert.equal(codes.queue_unavailable, '503/503');
  });
});

describe('splitAddressList', () => {
  it('splits at commas outside quotes, comments and angle brackets', () => {
    assert.deepEqual(splitAddressList('a@x.com, B <b@y.com>,c@z.com'), [
      'a@x.com',
      'B <b@y.com>',
      'c@z.com',
    ]);
    assert.deepEqual(splitAddressList('"Doe, John" <j@x.com>, k@x.com'), [
      '"Doe, John" <j@x.com>',
      'k@x.com',
    ]);
    assert.deepEqual(splitAddressList('"a \\" , b" <j@x.com>'), ['"a \\" , b" <j@x.com>']);
    assert.deepEqual(splitAddressList('j@x.com (Doe, J), k@x.com'), [
      'j@x.com (Doe, J)',
      'k@x.com',
    ]);
    assert.deepEqual(splitAddressList(' , ,'), []);
  });
});

describe('dialect requests → the native request', () => {
  it('maps Resend’s snake_case fields and refuses what cannot be honoured', () => {
    assert.deepEqual(
      resendToMessageRequest({
        from: 'a@example.com',
        to: 'b@example.net',
        reply_to: ['c@example.net'],
        subject: 's',
        text: 't',
        attachments: [{ filename: 'f.bin', content: { type: 'Buffer', data: [1, 2, 3] } }],
        tags: [{ name: 'n', value: 'v' }],
      }),
      {
        from: 'a@example.com',
        to: 'b@example.net',
        replyTo: ['c@example.net'],
        subject: 's',
        text: 't',
        attachments: [{ filename: 'f.bin', content: 'AQID' }],
      },
    );
    const refused = resendToMessageRequest({
      from: 'a@example.com',
      to: 'b@example.net',
      subject: 's',
    });
    assert.equal('code' in refused && refused.code, 'invalid_request');
  });

  it('maps Postmark’s fields, a header named "code" included', () => {
    assert.deepEqual(
      postmarkToMessageRequest({
        From: 'a@example.com',
        To: 'b@example.net, c@example.net',
        Bcc: null,
        TextBody: 't',
        Headers: [
          { Name: 'code', Value: '1' },
          { Name: 'message', Value: '2' },
        ],
      }),
      {
        from: 'a@example.com',
        to: ['b@example.net', 'c@example.net'],
        subject: '',
        text: 't',
        headers: { code: '1', message: '2' },
      },
    );
    const twice = postmarkToMessageRequest({
      From: 'a@example.com',
      To: 'b@example.net',
      TextBody: 't',
      Headers: [
        { Name: 'X-A', Value: '1' },
        { Name: 'x-a', Value: '2' },
      ],
    });
    assert.equal('code' in twice && twice.code, 'invalid_request');
  });
});
