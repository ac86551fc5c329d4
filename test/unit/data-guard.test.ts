import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataGuard } from '../../src/intake/smtp/data-guard.js';

function run(chunks: (string | Buffer)[], max = 1000) {
  const guard = new DataGuard(max);
  for (const chunk of chunks)
    guard.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  return guard.finish();
}

describe('DataGuard', () => {
  it('passes a CRLF-only message through unchanged', () => {
    const verdict = run(['From: a@b.com\r\n', '\r\nbody\r\n']);
    assert.deepEqual(verdict, {
      ok: true,
      raw: Buffer.from('From: a@b.com\r\n\r\nbody\r\n'),
      headroom: 0,
    });
  });

  it('finds a bare LF, a bare CR and a NUL, with their offsets', () => {
    assert.deepEqual(run(['ab\ncd\r\n']), {
      ok: false,
      reason: 'smuggling',
      problem: 'bare_lf',
      offset: 2,
    });
    assert.deepEqual(run(['ab\rcd\r\n']), {
      ok: false,
      reason: 'smuggling',
      problem: 'bare_cr',
      offset: 2,
    });
    assert.deepEqual(run(['ab\0\r\n']), {
      ok: false,
      reason: 'smuggling',
      problem: 'nul',
      offset: 2,
    });
  });

  it('carries the last byte across chunks', () => {
    assert.equal(run(['line\r', '\nnext\r\n']).ok, true, 'CR|LF split across chunks is fine');
    assert.deepEqual(run(['line\r', 'next\r\n']), {
      ok: false,
      reason: 'smuggling',
      problem: 'bare_cr',
      offset: 4,
    });
    assert.deepEqual(run(['line\r\n', '\n']), {
      ok: false,
      reason: 'smuggling',
      problem: 'bare_lf',
      offset: 6,
    });
    assert.deepEqual(run(['\nfirst']), {
      ok: false,
      reason: 'smuggling',
      problem: 'bare_lf',
      offset: 0,
    });
  });

  it('treats a CR at the very end as bare', () => {
    assert.deepEqual(run(['body\r\n', 'x\r']), {
      ok: false,
      reason: 'smuggling',
      problem: 'bare_cr',
      offset: 7,
    });
  });

  it('refuses a message over the limit, counting every byte but keeping none past it', () => {
    const guard = new DataGuard(10);
    guard.push(Buffer.from('0123456789'));
    guard.push(Buffer.from('abc\r\n'));
    assert.equal(guard.bytes, 15);
    assert.deepEqual(guard.finish(), { ok: false, reason: 'too_large', bytes: 15 });
    assert.equal(run(['12345678\r\n'], 10).ok, true, 'exactly the limit is allowed');
  });
});
