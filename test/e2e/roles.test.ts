import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { metricSample } from '../support/metrics-text.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { freeRelayPorts, type RelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { type RelayProcess, spawnRelay } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

async function scrape(httpPort: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/**
 * CONTRACT §HTTP API: every role serves /healthz, /readyz and /metrics on its HTTP port,
 * and a `--role worker` process serves nothing else there. An intake process and a worker
 * process on one Redis, each scraped: the accept counter is the intake's, the delivery
 * counters are the worker's.
 */
describe('postwarden start --role intake and --role worker as separate processes', {
  timeout: 120_000,
}, () => {
  const intakeData = tempDataDir();
  const workerData = tempDataDir();
  let redis: TestRedis;
  let sink: FakeUpstream;
  let intake: RelayProcess;
  let worker: RelayProcess;
  let intakePort: number;
  let workerPort: number;
  let secret: string;

  const env = (dataDir: string, ports: RelayPorts) =>
    relayEnv({ dataDir, ports, redisUrl: redis.url, upstreamUrl: sink.url });

  before(async () => {
    redis = await startTestRedis();
    sink = await startFakeUpstream({ mode: 'plain' });
    const connection = new Redis(redis.url);
    try {
      const store = new CredentialStore(connection, createKeys());
      ({ secret } = await store.create({ name: 'shop', allowFrom: ['*@example.com'] }));
    } finally {
      connection.disconnect();
    }
    const intakePorts = await freeRelayPorts();
    const workerPorts = await freeRelayPorts();
    intakePort = intakePorts.http;
    workerPort = workerPorts.http;
    intake = spawnRelay(['start', '--role', 'intake'], env(intakeData.dir, intakePorts));
    worker = spawnRelay(['start', '--role', 'worker'], env(workerData.dir, workerPorts));
    await Promise.all([
      intake.waitForOutput(/Create a credential/),
      worker.waitForOutput(/Create a credential/),
    ]);
  });

  after(async () => {
    await Promise.all([intake?.kill(), worker?.kill()]);
    await sink?.close();
    await redis?.cleanup();
    intakeData.remove();
    workerData.remove();
  });

  it('the worker answers /healthz, /readyz and /metrics, and nothing else', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${workerPort}/healthz`)).status, 200);
    const ready = await fetch(`http://127.0.0.1:${workerPort}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok', paused: false });
    const metrics = await fetch(`http://127.0.0.1:${workerPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    for (const path of ['/v1/messages', '/admin', '/admin/login']) {
      const response = await fetch(`http://127.0.0.1:${workerPort}${path}`, { redirect: 'manual' });
      assert.equal(response.status, 404, `${path} is not served by a worker`);
    }
    assert.match(worker.stdout(), /role worker/);
    assert.match(worker.stdout(), /Metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics/);
    assert.doesNotMatch(worker.stdout(), /HTTP API|Admin password|SMTP submission/);
  });

  it("a message accepted by the intake is counted in the intake's scrape and delivered by the worker, whose scrape counts it", async () => {
    const response = await fetch(`http://127.0.0.1:${intakePort}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'orders@example.com',
        to: ['a@example.net', 'b@example.net'],
        subject: 'roles-e2e',
        text: 'hello',
      }),
    });
    assert.equal(response.status, 202);
    await waitUntil(() => sink.subjects.get('roles-e2e') === 1, 30_000, 'delivery to the sink');

    let workerText = '';
    await waitUntil(
      async () => {
        workerText = await scrape(workerPort);
        return metricSample(workerText, 'postwarden_deliveries_total{outcome="delivered"}') === 2;
      },
      10_000,
      'the worker to count two delivered recipients',
    );
    assert.equal(metricSample(workerText, 'postwarden_delivery_duration_seconds_count'), 2);
    assert.equal(
      metricSample(workerText, 'postwarden_messages_accepted_total{protocol="http"}'),
      0,
    );
    assert.equal(metricSample(workerText, 'postwarden_ready'), 1);

    const intakeText = await scrape(intakePort);
    assert.equal(
      metricSample(intakeText, 'postwarden_messages_accepted_total{protocol="http"}'),
      1,
    );
    assert.equal(metricSample(intakeText, 'postwarden_deliveries_total{outcome="delivered"}'), 0);
  });
});
