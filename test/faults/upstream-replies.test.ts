import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type FaultWorld,
  messageRecord,
  sendTo,
  startFaultWorld,
  waitForRecord,
} from '../support/faults-harness.js';
import {
  type Act,
  type DotPoint,
  type MisbehavingUpstream,
  reply,
  startMisbehavingUpstream,
} from '../support/misbehaving-upstream.js';
import { testTlsPair } from '../support/tls.js';
import { waitUntil } from '../support/wait-until.js';

/** Temporary failures before the upstream accepts (issue 5: "4xx for K attempts"). */
const K = 3;
/**
 * How long a refused message is watched for a retry that must not come: several times the
 * harness's retry delays (base 200 ms, at most 1 s).
 */
const NO_RETRY_WINDOW_MS = 4000;

const GREYLISTED = 'greylisted@example.net';
const UNKNOWN_USER = 'unknown-user@example.net';

/**
 * Issue 5, upstream replies (CONTRACT §Delivery): 4xx → deferred and retried, 5xx →
 * bounced with no retry, RCPT greylisting → retried until accepted. Each message ends in
 * exactly one state with the attempts the replies call for, and is accepted at most once.
 */
describe('fault: upstream replies', { timeout: 120_000 }, () => {
  let upstream: MisbehavingUpstream;
  let world: FaultWorld;

  const data = ({ subject }: DotPoint): Act => {
    if (subject === 'replies-5xx-data') return reply(550);
    if (subject === 'replies-4xx' && upstream.timesReceived(subject) <= K) return reply(451);
    return reply(250);
  };
  const rcpt = (address: string, attemptNo: number): Act => {
    if (address === UNKNOWN_USER) return reply(550, '5.1.1 no such user');
    if (address === GREYLISTED && attemptNo <= 2)
      return reply(450, '4.7.1 greylisted, try again later');
    return reply(250);
  };

  before(async () => {
    upstream = await startMisbehavingUpstream({ data, rcpt });
    world = await startFaultWorld(upstream.url);
    await world.startRelay('all');
  });

  after(async () => {
    await world?.cleanup();
    await upstream?.close();
  });

  it(`4xx for ${K} attempts, then 250: delivered once after ${K + 1} attempts`, async () => {
    const result = await sendTo(world, 'replies-4xx', ['four-xx@example.net']);
    assert.ok(result.acked && result.id);
    const record = await waitForRecord(world, result.id, 'delivered', 30_000);
    console.log(
      `# upstream 4xx x${K}: acked 1, delivered 1, duplicates ${upstream.timesAccepted('replies-4xx') - 1}, kills 0`,
    );
    assert.equal(upstream.timesAccepted('replies-4xx'), 1);
    assert.equal(upstream.timesReceived('replies-4xx'), K + 1);
    assert.equal(record.attempts, K + 1);
    assert.deepEqual(
      record.events.map((event) => event.type),
      ['queued', ...Array<string>(K).fill('deferred'), 'delivered'],
    );
  });

  it('5xx at the end of DATA or at RCPT: bounced after one attempt, never retried', async () => {
    const atData = await sendTo(world, 'replies-5xx-data', ['five-xx@example.net']);
    const atRcpt = await sendTo(world, 'replies-5xx-rcpt', [UNKNOWN_USER]);
    assert.ok(atData.id && atRcpt.id);
    await waitForRecord(world, atData.id, 'bounced', 20_000);
    await waitForRecord(world, atRcpt.id, 'bounced', 20_000);
    // A retry would come within a second or two (harness retry delays): watch for one.
    await new Promise((resolve) => setTimeout(resolve, NO_RETRY_WINDOW_MS));
    const dataRecord = await messageRecord(world, atData.id);
    const rcptRecord = await messageRecord(world, atRcpt.id);
    console.log(
      `# upstream 5xx: acked 2, delivered 0, duplicates ${upstream.accepted.filter((s) => s.startsWith('replies-5xx')).length}, kills 0 (bounced 2)`,
    );
    assert.equal(upstream.timesReceived('replies-5xx-data'), 1, 'end-of-DATA 550 retried');
    assert.equal(upstream.rcptAttempts(UNKNOWN_USER), 1, 'RCPT 550 retried');
    assert.equal(upstream.timesReceived('replies-5xx-rcpt'), 0, 'DATA sent after RCPT 550');
    for (const record of [dataRecord, rcptRecord]) {
      assert.equal(record?.status, 'bounced');
      assert.equal(record?.attempts, 1);
      assert.equal(record?.recipients[0]?.status, 'bounced');
    }
    assert.match(rcptRecord?.recipients[0]?.detail ?? '', /550/);
  });

  it('greylisting at RCPT (450 4.7.1): retried, then delivered once', async () => {
    const result = await sendTo(world, 'replies-greylist', [GREYLISTED]);
    assert.ok(result.id);
    const record = await waitForRecord(world, result.id, 'delivered', 30_000);
    const copies = upstream.timesAccepted('replies-greylist');
    console.log(`# upstream greylisting: acked 1, delivered 1, duplicates ${copies - 1}, kills 0`);
    assert.equal(copies, 1);
    assert.equal(upstream.rcptAttempts(GREYLISTED), 3);
    // No DATA while the recipient is refused: the message body went out once.
    assert.equal(upstream.timesReceived('replies-greylist'), 1);
    assert.equal(record.attempts, 3);
    assert.match(
      record.events.find((event) => event.type === 'deferred')?.detail ?? '',
      /450.*greylisted/,
    );
  });
});

/**
 * Issue 5, STARTTLS stripped: with `smtp://` (STARTTLS required) a man-in-the-middle that
 * hides STARTTLS, or answers it with 454, must get no envelope and no message in cleartext;
 * the message stays deferred (not bounced, not lost) and goes out, once, when STARTTLS
 * works again — over TLS.
 */
describe('fault: upstream STARTTLS stripped', { timeout: 120_000 }, () => {
  let upstream: MisbehavingUpstream;
  let world: FaultWorld;
  let caDir: string;

  before(async () => {
    upstream = await startMisbehavingUpstream({ starttls: 'none' });
    world = await startFaultWorld(`smtp://127.0.0.1:${upstream.port}`);
    caDir = mkdtempSync(path.join(os.tmpdir(), 'pw-faults-ca-'));
    const caFile = path.join(caDir, 'upstream-ca.pem');
    writeFileSync(caFile, (await testTlsPair()).cert);
    // CONTRACT: a private CA is trusted through Node's standard NODE_EXTRA_CA_CERTS.
    await world.startRelay('all', { NODE_EXTRA_CA_CERTS: caFile });
  });

  after(async () => {
    await world?.cleanup();
    await upstream?.close();
    if (caDir) rmSync(caDir, { recursive: true, force: true });
  });

  const inCleartext = () =>
    upstream.commands.filter(
      (command) => !command.secure && ['MAIL', 'RCPT', 'DATA', 'AUTH'].includes(command.verb),
    );
  const starttlsTries = () =>
    upstream.commands.filter((command) => command.verb === 'STARTTLS').length;

  it('sends nothing in cleartext, stays deferred, and delivers once STARTTLS works', async () => {
    const result = await sendTo(world, 'starttls-stripped', ['tls-only@example.net']);
    assert.ok(result.acked && result.id);
    const id = result.id;

    // STARTTLS not offered (stripped from EHLO): the relay asks anyway and is refused.
    await waitUntil(() => starttlsTries() >= 3, 20_000, 'three tries without STARTTLS', 50);
    assert.equal((await messageRecord(world, id))?.status, 'deferred');
    // STARTTLS offered but answered 454.
    upstream.setStartTls('refuse');
    const before = starttlsTries();
    await waitUntil(() => starttlsTries() >= before + 3, 20_000, 'three tries answered 454', 50);
    const deferred = await messageRecord(world, id);
    assert.equal(deferred?.status, 'deferred', 'neither bounced nor delivered without TLS');
    assert.deepEqual(inCleartext(), [], 'envelope or message sent in cleartext');
    const refusedTries = starttlsTries();

    upstream.setStartTls(await testTlsPair());
    const record = await waitForRecord(world, id, 'delivered', 20_000);
    const copies = upstream.timesAccepted('starttls-stripped');
    console.log(
      `# upstream starttls-stripped: acked 1, delivered 1, duplicates ${copies - 1}, kills 0 (${refusedTries} refused STARTTLS, ${record.attempts} attempts)`,
    );
    assert.equal(copies, 1);
    assert.deepEqual(inCleartext(), [], 'envelope or message sent in cleartext');
    assert.ok(
      upstream.commands.some((command) => command.secure && command.verb === 'DATA'),
      'the delivery went over TLS',
    );
  });
});
