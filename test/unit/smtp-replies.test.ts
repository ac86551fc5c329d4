import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Replies,
  replyError,
  replyForDenial,
  replyLine,
  replyQueued,
} from '../../src/intake/smtp/replies.js';
import type { DenialCode } from '../../src/security/verdict.js';

describe('SMTP replies table', () => {
  it('maps every denial code to the contract reply', () => {
    const expected: Record<DenialCode, string> = {
      unauthorized: '530 5.7.0',
      banned: '554 5.7.1',
      sender_not_allowed: '553 5.7.1',
      header_sender_not_allowed: '550 5.7.1',
      recipient_not_allowed: '550 5.7.1',
      too_large: '552 5.3.4',
      too_many_recipients: '452 4.5.3',
      rate_limited: '451 4.7.1',
      credential_held: '451 4.7.1',
      invalid_request: '550 5.6.0',
      queue_unavailable: '451 4.3.0',
    };
    for (const [code, prefix] of Object.entries(expected)) {
      const line = replyLine(replyForDenial({ code: code as DenialCode, message: 'why' }));
      assert.equal(line, `${prefix} why`);
    }
    assert.equal(
      replyLine(
        replyForDenial({ code: 'rate_limited', message: 'slow down', retryAfterSeconds: 12 }),
      ),
      '451 4.7.1 slow down; retry in 12s',
    );
  });

  it('renders the accepted reply exactly and errors for smtp-server', () => {
    assert.equal(replyLine(replyQueued('abc')), '250 2.0.0 Ok: queued as abc');
    const error = replyError(Replies.authFailed);
    assert.equal(error.responseCode, 535);
    assert.equal(error.message, '5.7.8 Authentication credentials invalid');
    assert.match(replyLine(Replies.encryptionRequired), /^538 5\.7\.11 /);
    assert.match(replyLine(Replies.tooManyAuthFailures), /^421 4\.7\.0 /);
  });
});
