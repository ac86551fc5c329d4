import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { silentLogger } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { type SentinelGroup, startSentinelGroup } from '../support/sentinel.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * CONTRACT §More than one machine: with `REDIS_URL=redis+sentinel://…` the relay follows
 * the primary through failovers, and with `POSTWARDEN_DURABILITY=replicated` an
 * acknowledged message is on a replica too; while no replica confirms, nothing is
 * acknowledged (503), and /readyz says why. Real redis-server and sentinel processes.
 */
describe('Sentinel and replicated durability', { timeout: 180_000 }, () => {
  let group: SentinelGroup;
  let upstream: FakeUpstream;
  let relay: InProcessRelay;
  let unused: TestRedis;
  let secret: string;
  const acked: string[] = [];

  const post = async (subject: string) => {
    const response = await fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'orders@example.com', to: 'a@example.net', subject, text: 'x' }),
    });
    const body = (await response.json()) as { id?: string; error?: { code: string } };
    if (response.status === 202 && body.id) acked.push(subject);
    return { status: response.status, body };
  };
  const readyz = async () => {
    const response = await fetch(`${relay.baseUrl}/readyz`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    group = await startSentinelGroup();
    upstream = await startFakeUpstream({ mode: 'plain' });
    // startInProcessRelay wants a TestRedis to own; the relay itself talks to Sentinel.
    unused = await startTestRedis();
    relay = await startInProcessRelay(
      {
        REDIS_URL: group.url,
        POSTWARDEN_DURABILITY: 'replicated',
        POSTWARDEN_MIN_REPLICAS: '1',
        POSTWARDEN_UPSTREAM_URL: upstream.url,
      },
      { logger: silentLogger },
      { redis: unused },
    );
    ({ secret } = await relay.relay.services.credentials.create({
      name: 'shop',
      allowFrom: ['*@example.com'],
    }));
  });

  after(async () => {
    await relay?.close();
    await upstream?.close();
    await group?.stop();
    await unused?.cleanup();
  });

  it('accepts through the primary Sentinel names, with /readyz counting the replica', async () => {
    assert.deepEqual(await readyz(), {
      status: 200,
      body: { status: 'ok', paused: false, replicas: 1 },
    });
    assert.equal((await post('first')).status, 202);
    await waitUntil(() => upstream.subjects.get('first') === 1, 15_000, 'delivery of first');
  });

  it('acknowledges nothing while no replica confirms, says why, and resumes when one is back', async () => {
    await group.replica.server.kill();
    // WAIT times out at once for the next accept, before the monitor's next check.
    const refused = await post('no-replica');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error?.code, 'queue_unavailable');
    await waitUntil(async () => (await readyz()).status === 503, 15_000, '/readyz to say 503');
    const ready = await readyz();
    assert.equal(ready.body.replicas, 0);
    assert.match(String(ready.body.reason), /POSTWARDEN_MIN_REPLICAS=1/);
    await group.replica.restart();
    await waitUntil(async () => (await post('replica-back')).status === 202, 30_000, 'an accept');
  });

  it('follows a failover: no false acknowledgement while the new primary has no replica, nothing acknowledged is lost', async () => {
    const before = acked.length;
    assert.equal(await group.primaryPort(), group.primary.port);
    await group.primary.server.kill();
    const killedAt = Date.now();
    // Sentinel promotes the replica; it has no replica of its own until the old primary
    // returns, so under `replicated` nothing may be acknowledged meanwhile.
    await waitUntil(
      async () => (await group.primaryPort()) === group.replica.port,
      30_000,
      'Sentinel to promote the replica',
      100,
    );
    for (let i = 0; i < 3; i++) assert.equal((await post(`after-kill-${i}`)).status, 503);
    assert.equal(acked.length, before, 'no acknowledgement without a replica');
    await group.primary.restart();
    let firstAck = 0;
    await waitUntil(
      async () => {
        if ((await post('after-failover')).status !== 202) return false;
        firstAck = Date.now();
        return true;
      },
      60_000,
      'an accept on the new primary once the old one is its replica',
      200,
    );
    console.log(
      `# sentinel failover: first acceptance ${(firstAck - killedAt) / 1000} s after the kill`,
    );
    assert.equal(await group.onlineReplicas(group.replica.port), 1);
    await waitUntil(
      () => acked.every((subject) => upstream.subjects.get(subject) === 1),
      60_000,
      'every acknowledged message delivered once',
    );
    assert.deepEqual(
      acked.filter((subject) => (upstream.subjects.get(subject) ?? 0) !== 1),
      [],
    );
  });
});
