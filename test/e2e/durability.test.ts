import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useSinkWorld, waitForDelivery } from '../support/faults-harness.js';
import { sendHttp, sendSmtp } from '../support/load-clients.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { waitForReady } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

/** A small message that must not be accepted while Redis is down. */
const downMail = (subject: string) => ({
  from: 'load@example.com',
  to: ['rcpt@example.net'],
  subject,
  text: 'x',
});

/**
 * "Nothing is dropped", tested by killing real processes: every message that got a
 * 250/202 must reach the upstream, whatever was SIGKILLed in between.
 */
describe('durability (real processes, SIGKILL)', { timeout: 240_000 }, () => {
  const fixture = useSinkWorld({ dataDelayMs: 5 });
  const sendOne = async (token: string, protocol: 'smtp' | 'http') =>
    (await fixture.world.send(token, protocol)).acked;

  it('delivers every acknowledged message while the relay is SIGKILLed and restarted', async () => {
    const { sink, world } = fixture;
    let relay = await world.startRelay('all');
    const acked = new Set<string>();
    let attempts = 0;
    let kills = 0;
    let stop = false;
    const client = async (index: number) => {
      const protocol = index % 2 === 0 ? 'smtp' : 'http';
      while (!stop) {
        const token = `relay-kill-${index}-${attempts++}`;
        if (await sendOne(token, protocol)) acked.add(token);
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const clients = Array.from({ length: 16 }, (_, index) => client(index));
    while (kills < 4 || acked.size < 600) {
      const target = acked.size + 120;
      await waitUntil(() => acked.size >= target, 60_000, 'acknowledgements between kills');
      await relay.kill('SIGKILL');
      kills++;
      relay = await world.startRelay('all');
    }
    stop = true;
    await Promise.all(clients);
    const missing = await waitForDelivery(acked, sink.subjects, 90_000);
    const duplicates = [...acked].filter((token) => (sink.subjects.get(token) ?? 0) > 1).length;
    console.log(
      `# relay kills: ${kills}, acked: ${acked.size}, delivered: ${acked.size - missing.length}, duplicates: ${duplicates}, attempts: ${attempts}`,
    );
    assert.equal(missing.length, 0);
    assert.ok(acked.size >= 500);
    assert.ok(kills >= 3);
    await relay.kill('SIGTERM');
  });

  it('loses nothing when Redis is SIGKILLed right after acknowledgements', async () => {
    const { sink, world } = fixture;
    const intake = await world.startRelay('intake');
    const acked: string[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async (_, index) => {
        for (let n = 0; n < 10; n++) {
          const token = `redis-kill-${index}-${n}`;
          if (await sendOne(token, index % 2 === 0 ? 'smtp' : 'http')) acked.push(token);
        }
      }),
    );
    await world.redis.kill();
    await world.restartRedis();
    const worker = await world.startRelay('worker');
    const missing = await waitForDelivery(acked, sink.subjects, 60_000);
    console.log(
      `# redis SIGKILL: acked ${acked.length}, delivered ${acked.length - missing.length}`,
    );
    assert.equal(acked.length, 100);
    assert.deepEqual(missing, []);
    await Promise.all([intake.kill('SIGTERM'), worker.kill('SIGTERM')]);
  });

  it('answers 451/503 within 5 s while Redis is down, /readyz 503, and recovers after', async () => {
    const { sink, world } = fixture;
    const { ports, credentials } = world;
    const relay = await world.startRelay('all');
    // A client that authenticated before the outage reaches the end of DATA during it.
    const client = await RawSmtpClient.connect(ports.smtp);
    await client.command('EHLO client.example.com');
    assert.match(await client.startTls(), /^220 /);
    await client.command('EHLO client.example.com');
    assert.match(await client.authPlain(credentials.name, credentials.secret), /^235 /);
    assert.match(await client.command('MAIL FROM:<load@example.com>'), /^250 /);
    assert.match(await client.command('RCPT TO:<rcpt@example.net>'), /^250 /);
    assert.match(await client.command('DATA'), /^354 /);

    await world.redis.stop();
    let started = Date.now();
    const endOfData = await client.send(
      'From: load@example.com\r\nTo: rcpt@example.net\r\nSubject: down-smtp\r\n\r\nx\r\n.\r\n',
    );
    assert.match(endOfData, /^451 4\.3\.0/);
    assert.ok(Date.now() - started < 5000, `SMTP answered after ${Date.now() - started} ms`);
    client.close();

    // A new SMTP client is told to come back later (a 4xx), never accepted.
    started = Date.now();
    const fresh = await sendSmtp(ports.smtp, credentials, downMail('down-smtp-new')).then(
      () => undefined,
      (error: { responseCode?: number }) => error,
    );
    assert.ok(
      fresh?.responseCode && fresh.responseCode >= 400 && fresh.responseCode < 500,
      `got ${fresh?.responseCode}`,
    );
    assert.ok(Date.now() - started < 5000);

    started = Date.now();
    const http = await sendHttp(ports.http, credentials, downMail('down-http'));
    assert.equal(http.status, 503);
    assert.equal((http.body.error as { code: string }).code, 'queue_unavailable');
    assert.ok(Date.now() - started < 5000, `HTTP answered after ${Date.now() - started} ms`);
    const ready = await fetch(`http://127.0.0.1:${ports.http}/readyz`);
    assert.equal(ready.status, 503);

    await world.restartRedis();
    await waitForReady(ports.http, 15_000);
    assert.equal(await sendOne('after-recovery', 'http'), true);
    assert.equal(await sendOne('after-recovery-smtp', 'smtp'), true);
    await waitUntil(
      () => sink.subjects.has('after-recovery') && sink.subjects.has('after-recovery-smtp'),
      20_000,
      'delivery after recovery',
    );
    for (const subject of ['down-smtp', 'down-smtp-new', 'down-http'])
      assert.equal(sink.subjects.has(subject), false);
    await relay.kill('SIGTERM');
  });
});
