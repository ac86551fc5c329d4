import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { createLogSink } from '../support/log-sink.js';
import { metricSample } from '../support/metrics-text.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * CONTRACT §Containment on the production composition root, in-process, with a counting
 * fake upstream: hold by volume, HOLD_MAX refusals on both edges, manual hold and release
 * (delivered exactly once), a worker holding a queued and a deferred message, purge, the
 * kill switch, and the metrics and log events of each.
 */
describe('containment: holds, release, purge, pause', () => {
  let upstream: FakeUpstream;
  let relay: InProcessRelay;
  const sink = createLogSink();
  let sequence = 0;

  before(async () => {
    upstream = await startFakeUpstream({ mode: 'plain' });
    relay = await startInProcessRelay(
      {
        POSTWARDEN_UPSTREAM_URL: upstream.url,
        POSTWARDEN_HOLD_MAX: '3',
        POSTWARDEN_RETRY_BASE: '300ms',
        POSTWARDEN_RETRY_MAX_DELAY: '1s',
        POSTWARDEN_WORKER_CONCURRENCY: '4',
      },
      { logger: sink.logger },
    );
  });
  after(async () => {
    await relay?.close();
    await upstream?.close();
  });

  async function credential(name: string, holdAbove?: number): Promise<string> {
    const { secret } = await relay.relay.services.credentials.create({
      name,
      allowFrom: ['*@example.com'],
      holdAbove,
    });
    return secret;
  }

  /** POST one message with a unique subject; the answer's status and body. */
  async function post(secret: string, tag: string) {
    sequence += 1;
    const subject = `${tag}-${sequence}`;
    const response = await fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'orders@example.com',
        to: [`r${sequence}@example.net`],
        subject,
        text: 'hello',
      }),
    });
    const body = (await response.json()) as {
      id?: string;
      status?: string;
      error?: { code: string };
    };
    return { status: response.status, body, subject };
  }

  const operator = () => relay.relay.operator;
  const show = async (id: string) => {
    const view = await operator().show(id);
    assert.ok(view, `message ${id} exists`);
    return view;
  };
  const metrics = async () => relay.relay.metrics.render();

  it('holds a credential past --hold-above: the rest are kept held, then refused past HOLD_MAX (429)', async () => {
    const secret = await credential('leaky', 5);
    const answers: Awaited<ReturnType<typeof post>>[] = [];
    // The first five are delivered before the sixth arrives: a worker would hold them too
    // (a held credential's queued messages are held before their next attempt).
    for (let i = 0; i < 5; i += 1) answers.push(await post(secret, 'leaky'));
    await waitUntil(
      () => answers.every((a) => upstream.subjects.get(a.subject) === 1),
      10_000,
      'the five before the hold delivered',
    );
    for (let i = 0; i < 4; i += 1) answers.push(await post(secret, 'leaky'));
    assert.deepEqual(
      answers.map((a) => a.status),
      [202, 202, 202, 202, 202, 202, 202, 202, 429],
    );
    assert.deepEqual(
      answers.slice(0, 8).map((a) => a.body.status),
      ['queued', 'queued', 'queued', 'queued', 'queued', 'held', 'held', 'held'],
    );
    assert.equal(answers[8]?.body.error?.code, 'credential_held');
    const sixth = await show(answers[5]?.body.id as string);
    assert.equal(sixth.status, 'held');
    assert.deepEqual(
      sixth.events.map((e) => e.type),
      ['queued', 'held'],
    );
    assert.equal(sixth.recipients[0]?.status, 'held');
    const logged = sink.records.find((r) => r.event === 'credential_held');
    assert.deepEqual(
      { credential: logged?.credential, reason: logged?.reason },
      { credential: 'leaky', reason: 'volume' },
    );
    const text = await metrics();
    assert.equal(metricSample(text, 'postwarden_credentials_held'), 1);
    assert.equal(metricSample(text, 'postwarden_messages_held'), 3);
    assert.equal(metricSample(text, 'postwarden_holds_total{reason="volume"}'), 1);
    assert.equal(upstream.subjects.get(answers[5]?.subject as string), undefined);
  });

  it('refuses SMTP with 451 4.7.1 past HOLD_MAX, and answers 250 queued while held', async () => {
    const secret = await credential('smtp-held', 0);
    await operator().hold('smtp-held', 'testing');
    const port = relay.started.smtp?.submissionPort as number;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      auth: { user: 'smtp-held', pass: secret },
      tls: { rejectUnauthorized: false },
    });
    const send = (n: number) =>
      transport.sendMail({
        from: 'orders@example.com',
        to: `s${n}@example.net`,
        subject: `smtp-held-${n}`,
        text: 'hi',
      });
    for (let n = 0; n < 3; n += 1) {
      const info = await send(n);
      assert.match(info.response, /^250 2\.0\.0 Ok: queued as \S+/);
    }
    await assert.rejects(send(3), (error: { response?: string }) => {
      assert.match(error.response ?? '', /^451 4\.7\.1 /);
      return true;
    });
    transport.close();
  });

  it('release puts held messages back on the queue: each delivered exactly once, count restarts', async () => {
    const secret = await credential('manual');
    await operator().hold('manual', 'suspicious');
    const ids: { id: string; subject: string }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await post(secret, 'manual');
      assert.equal(answer.body.status, 'held');
      ids.push({ id: answer.body.id as string, subject: answer.subject });
    }
    const { wasHeld, released } = await operator().release('manual');
    assert.deepEqual({ wasHeld, released }, { wasHeld: true, released: 3 });
    await waitUntil(
      async () =>
        (await Promise.all(ids.map(({ id }) => show(id)))).every((v) => v.status === 'delivered'),
      10_000,
      'released messages delivered',
    );
    for (const { id, subject } of ids) {
      assert.equal(upstream.subjects.get(subject), 1, `${subject} delivered exactly once`);
      assert.ok((await show(id)).events.some((e) => e.type === 'released'));
    }
    assert.ok(
      sink.records.some((r) => r.event === 'credential_released' && r.credential === 'manual'),
    );
    const answer = await post(secret, 'manual');
    assert.equal(answer.body.status, 'queued', 'no longer held');
  });

  it('a worker holds a queued and a deferred message of a credential put on hold before sending', async () => {
    const secret = await credential('late');
    // The upstream defers everything for now: the message becomes deferred, with a retry due.
    upstream.script({ data: () => 451 });
    const deferred = await post(secret, 'late');
    await waitUntil(async () => (await show(deferred.body.id as string)).status === 'deferred');
    await operator().pause('hold test');
    const queued = await post(secret, 'late');
    assert.equal(queued.body.status, 'queued');
    await operator().hold('late');
    upstream.script({ data: () => 250 });
    await operator().resume();
    await waitUntil(
      async () =>
        (await show(deferred.body.id as string)).status === 'held' &&
        (await show(queued.body.id as string)).status === 'held',
      10_000,
      'both held by the worker',
    );
    assert.equal(upstream.subjects.get(queued.subject), undefined);
    assert.equal(upstream.subjects.get(deferred.subject), undefined);
    const events = (await show(deferred.body.id as string)).events.map((e) => e.type);
    assert.deepEqual(events.slice(-1), ['held']);
  });

  it('purge ends held messages as purged (bodies gone), counts on --dry-run, never touches delivered ones', async () => {
    const secret = await credential('spam');
    const delivered = await post(secret, 'spam');
    await waitUntil(async () => (await show(delivered.body.id as string)).status === 'delivered');
    await operator().hold('spam');
    const held = [await post(secret, 'spam'), await post(secret, 'spam')];
    assert.deepEqual(await operator().purge({ credential: 'spam', dryRun: true }), { count: 2 });
    assert.equal(
      (await show(held[0]?.body.id as string)).status,
      'held',
      'dry run changes nothing',
    );
    // Asking for every purgeable status still leaves the delivered one alone.
    const purged = await operator().purge({
      credential: 'spam',
      statuses: ['held', 'queued', 'deferred'],
      dryRun: false,
    });
    assert.deepEqual(purged, { count: 2 });
    for (const answer of held) {
      const view = await show(answer.body.id as string);
      assert.equal(view.status, 'purged');
      assert.equal(view.recipients[0]?.status, 'purged');
      assert.equal(view.events.at(-1)?.type, 'purged');
      assert.equal(await operator().rawMessage(answer.body.id as string), null, 'body deleted');
    }
    assert.equal((await show(delivered.body.id as string)).status, 'delivered');
    await operator().release('spam');
    assert.equal(upstream.subjects.get(held[0]?.subject as string), undefined);
    assert.ok(sink.records.some((r) => r.event === 'messages_purged' && r.count === 2));
  });

  it('purge --status queued ends a waiting message of that credential only; held is the default', async () => {
    const secret = await credential('waiting');
    const other = await credential('bystander');
    await operator().pause('purge test');
    const mine = await post(secret, 'waiting');
    const theirs = await post(other, 'bystander');
    assert.deepEqual(await operator().purge({ credential: 'waiting', dryRun: true }), {
      count: 0,
    });
    assert.deepEqual(
      await operator().purge({ credential: 'waiting', statuses: ['queued'], dryRun: false }),
      { count: 1 },
    );
    await operator().resume();
    await waitUntil(() => upstream.subjects.get(theirs.subject) === 1, 10_000, 'the bystander');
    assert.equal((await show(mine.body.id as string)).status, 'purged');
    assert.equal(upstream.subjects.get(mine.subject), undefined);
  });

  it('pause stops delivery (readyz stays 200 and says so), acceptance goes on; resume delivers', async () => {
    const secret = await credential('paused');
    await operator().pause('incident');
    const readyz = await fetch(`${relay.baseUrl}/readyz`);
    assert.equal(readyz.status, 200);
    assert.deepEqual(await readyz.json(), { status: 'ok', paused: true });
    await waitUntil(
      async () => metricSample(await metrics(), 'postwarden_delivery_paused') === 1,
      5000,
      'the paused gauge at 1',
    );
    const answer = await post(secret, 'paused');
    assert.equal(answer.status, 202);
    assert.equal(answer.body.status, 'queued');
    assert.equal((await show(answer.body.id as string)).status, 'queued');
    await operator().resume();
    await waitUntil(
      () => upstream.subjects.get(answer.subject) === 1,
      10_000,
      'delivery after resume',
    );
    // The containment gauges share one read per second between scrapes.
    await waitUntil(
      async () => metricSample(await metrics(), 'postwarden_delivery_paused') === 0,
      5000,
      'the gauge back at 0',
    );
    const events = sink.records.map((r) => r.event);
    assert.ok(events.includes('delivery_paused') && events.includes('delivery_resumed'));
  });

  it('writes every operator action to the audit log, newest first, without secrets', async () => {
    const entries = await operator().auditLog(100);
    const actions = entries.map((e) => e.action);
    for (const action of ['hold', 'release', 'purge', 'pause', 'resume']) {
      assert.ok(actions.includes(action), action);
    }
    assert.ok(entries.every((e) => e.actor === 'admin'));
    const times = entries.map((e) => Date.parse(e.at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    assert.deepEqual(Object.keys(entries[0] ?? {}).sort(), [
      'action',
      'actor',
      'at',
      'detail',
      'target',
    ]);
  });
});
