import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStat } from '../../bench/lib/proc.js';
import { median, percentile, ratio, summarize } from '../../bench/lib/stats.js';
import { bodyText, messageTemplate, tagOfSubject } from '../../bench/load/message.js';
import { type Reply, ReplyParser } from '../../bench/load/smtp-session.js';

describe('benchmark statistics', () => {
  it('takes nearest-rank percentiles of a sorted list', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 95), 95);
    assert.equal(percentile(hundred, 99), 99);
    assert.equal(percentile(hundred, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('takes the median of odd and even counts and ignores NaN', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, Number.NaN, 1, 3]), 3);
    assert.ok(Number.isNaN(median([])));
  });

  it('summarizes unsorted latencies numerically (not as strings)', () => {
    const summary = summarize([10, 9, 100, 2, 1]);
    assert.equal(summary.count, 5);
    assert.equal(summary.p50, 9);
    assert.equal(summary.max, 100);
    assert.equal(summary.mean, 24.4);
  });

  it('refuses a ratio to nothing', () => {
    assert.equal(ratio(3, 2), 1.5);
    assert.ok(Number.isNaN(ratio(3, 0)));
    assert.ok(Number.isNaN(ratio(3, Number.NaN)));
  });
});

describe('benchmark /proc parsing', () => {
  it('adds utime, stime, cutime and cstime even when the command name holds spaces and parens', () => {
    const line =
      '4242 (smtpd (x) y) S 4200 4242 4242 0 -1 4194560 500 0 0 0 150 50 30 20 20 0 1 0 100 1000 200';
    assert.deepEqual(parseStat(line), { pid: 4242, ppid: 4200, cpuSeconds: 2.5 });
  });
});

describe('benchmark messages', () => {
  it('builds bodies of the exact size from CRLF lines with no bare LF and no leading dot', () => {
    for (const size of [2048, 20_480, 100]) {
      const text = bodyText(size);
      assert.equal(text.length, size);
      assert.ok(text.endsWith('\r\n'));
      assert.doesNotMatch(text, /[^\r]\n|\r[^\n]/);
      assert.doesNotMatch(text, /(^|\n)\./);
    }
  });

  it('makes SMTP payloads of about the requested size ending with the final dot', () => {
    const [head, body] = messageTemplate(2048).smtp('r1-smtp-2k-postfix-3-17');
    const total = head.length + body.length;
    assert.ok(Math.abs(total - 3 - 2048) < 16, `total ${total}`);
    assert.ok(body.toString('latin1').endsWith('\r\n.\r\n'));
    assert.match(head.toString('latin1'), /^Subject: bench r1-smtp-2k-postfix-3-17\r$/m);
  });

  it('finds the run tag in a subject so the sink counts each run apart', () => {
    assert.equal(tagOfSubject('bench r1-smtp-2k-postfix-3-17'), 'r1-smtp-2k-postfix');
    assert.equal(
      tagOfSubject('bench r2-http-2k-postwarden-warm-0-0'),
      'r2-http-2k-postwarden-warm',
    );
    assert.equal(tagOfSubject('hello'), '');
  });
});

describe('benchmark SMTP reply parser', () => {
  it('joins multi-line replies and splits replies across chunk boundaries', () => {
    const replies: Reply[] = [];
    const parser = new ReplyParser((reply) => replies.push(reply));
    parser.feed('250-host\r\n250-PIPE');
    parser.feed('LINING\r\n250 AUTH PLAIN\r\n25');
    parser.feed('0 2.0.0 Ok\r\n354 go\r\n');
    assert.deepEqual(replies, [
      { code: 250, text: 'host\r\nPIPELINING\r\nAUTH PLAIN' },
      { code: 250, text: '2.0.0 Ok' },
      { code: 354, text: 'go' },
    ]);
  });
});
