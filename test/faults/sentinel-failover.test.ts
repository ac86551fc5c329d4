import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { reportCounts, waitForDelivery } from '../support/faults-harness.js';
import { bodyOfSize, type Credentials, sendHttp, sendSmtp } from '../support/load-clients.js';
import { freeRelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { type RelayProcess, spawnRelay, waitForRelay } from '../support/relay-process.js';
import { type SentinelGroup, startSentinelGroup } from '../support/sentinel.js';
import { waitUntil } from '../support/wait-until.js';

const KILLS = 2;
/** Longest wait for the relays to accept, or deliver, again after a kill. */
const RECOVERY_MS = 90_000;
/** Acknowledged messages every run sends, whatever the kills. */
const MIN_ACKED = 300;

interface RunFigures {
  acked: number;
  lost: number;
  duplicates: number;
  /** Seconds from each kill until the first new acceptance / delivery. */
  acceptAfter: number[];
  deliverAfter: number[];
}

/**
 * CONTRACT §More than one machine, with real processes: a primary, a replica and three
 * Sentinels; two intakes and two workers; SMTP and HTTP load through both intakes; the
 * primary SIGKILLed (then brought back, which makes it the new primary's replica) several
 * times. With `replicated` nothing acknowledged may be lost; the same run with `fsync`
 * shows what the mode buys (its losses, if any, are reported, not failed).
 */
async function failoverRun(durability: 'replicated' | 'fsync'): Promise<RunFigures> {
  // Two replicas: after a failover the new primary still has one, so `replicated` accepts
  // again as soon as the sentinels have re-pointed it, without waiting for the dead node.
  const group: SentinelGroup = await startSentinelGroup({ replicas: 2 });
  const sink: FakeUpstream = await startFakeUpstream({ mode: 'plain' });
  const relays: RelayProcess[] = [];
  const data = tempDataDir('pw-failover-');
  try {
    const primary = new Redis({ port: group.primary.port, host: '127.0.0.1' });
    const created = await new CredentialStore(primary, createKeys()).create({
      name: 'failover',
      allowFrom: ['*@example.com'],
      holdAbove: 0,
    });
    primary.disconnect();
    const credentials: Credentials = { name: 'failover', secret: created.secret };
    const start = async (role: 'intake' | 'worker') => {
      const ports = await freeRelayPorts();
      const env = relayEnv(
        { dataDir: data.dir, ports, redisUrl: group.url, upstreamUrl: sink.url, fastRetry: true },
        { POSTWARDEN_DURABILITY: durability, POSTWARDEN_MIN_REPLICAS: '1', LOG_LEVEL: 'warn' },
      );
      const relay = spawnRelay(['start', '--role', role], env);
      relays.push(relay);
      await waitForRelay(relay, ports.http);
      return ports;
    };
    const intakes = [await start('intake'), await start('intake')];
    await start('worker');
    await start('worker');

    const acked = new Set<string>();
    /**
     * When each acknowledged request was sent, not answered: a reply the old primary gave
     * just before it died can reach the client after the kill, and must not count as the
     * relay accepting again.
     */
    const ackTimes: number[] = [];
    let sent = 0;
    let stop = false;
    /** Set while a replica resyncs with the new primary between kills: the lanes wait. */
    let resting = false;
    const lane = async (index: number) => {
      const intake = intakes[index % 2];
      if (!intake) return;
      while (!stop) {
        if (resting) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        const token = `failover-${durability}-${index}-${sent++}`;
        const sentAt = Date.now();
        const mail = { from: 'load@example.com', to: ['rcpt@example.net'], subject: token };
        try {
          const ok =
            index % 3 === 0
              ? (
                  await sendSmtp(intake.smtp, credentials, { ...mail, text: bodyOfSize(1024) })
                ).startsWith('250')
              : (await sendHttp(intake.http, credentials, { ...mail, text: bodyOfSize(1024) }))
                  .status === 202;
          if (ok) {
            acked.add(token);
            ackTimes.push(sentAt);
          } else {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    const lanes = Array.from({ length: 6 }, (_, index) => lane(index));
    let kills = 0;
    const figures: RunFigures = {
      acked: 0,
      lost: 0,
      duplicates: 0,
      acceptAfter: [],
      deliverAfter: [],
    };
    const deliveredAt = () => sink.received.map((message) => message.receivedAt);
    for (let kill = 0; kill < KILLS; kill++) {
      const before = acked.size;
      await waitUntil(() => acked.size >= before + 150, 60_000, 'acknowledgements before a kill');
      const primaryPort = await group.primaryPort();
      const victim = group.nodes.find((node) => node.port === primaryPort);
      assert.ok(victim, `no node on the primary's port ${primaryPort}`);
      await victim.server.kill();
      kills += 1;
      const killedAt = Date.now();
      await waitUntil(
        async () => (await group.primaryPort()) !== victim.port,
        30_000,
        `Sentinel to promote a replica (kill ${kill + 1})`,
        100,
      );
      const promoted = await group.primaryPort();
      // Bounded by what recovery takes on a slow machine: the sentinels' vote, the
      // clients' re-resolution and, at worst, the delivery watchdog's two strikes.
      await waitUntil(
        () => ackTimes.some((at) => at > killedAt),
        RECOVERY_MS,
        'a new acceptance',
        100,
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await explainStall(group, relays)}`);
      });
      figures.acceptAfter.push(
        (Math.min(...ackTimes.filter((at) => at > killedAt)) - killedAt) / 1000,
      );
      await waitUntil(
        () => deliveredAt().some((at) => at > killedAt),
        RECOVERY_MS,
        'a new delivery',
        100,
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await explainStall(group, relays)}`);
      });
      figures.deliverAfter.push(
        (Math.min(...deliveredAt().filter((at) => at > killedAt)) - killedAt) / 1000,
      );
      // The old primary comes back as a replica of the new one (Sentinel reconfigures it).
      await victim.restart();
      if (kill === KILLS - 1) break;
      // The next kill needs a replica in sync to promote. A full resync can take long (seen
      // in CI on a loaded machine: minutes), so the lanes rest meanwhile, and without one
      // the run ends here: a second kill then would be a double failure no Sentinel setup
      // survives. The kills made are reported and at least one is required.
      resting = true;
      // In sync is not enough: every sentinel must also list that replica as healthy and
      // linked (it learns of it from the new primary's INFO, every few seconds), or the
      // next failover finds nothing to promote.
      const synced = await waitUntil(
        async () =>
          (await group.onlineReplicas(promoted)) >= 1 &&
          (await group.sentinelsWithPromotableReplica(promoted)) === group.sentinelPorts.length,
        120_000,
        'a replica in sync with the new primary',
        100,
      ).then(
        () => true,
        () => false,
      );
      resting = false;
      if (!synced) {
        console.log(
          `# sentinel failover (${durability}): no replica in sync within 120 s; stopping after ${kill + 1} kill(s)`,
        );
        break;
      }
    }
    // The run's volume does not depend on how many kills it made: the lanes go on until
    // it is reached (a run that stopped after one kill still sends as much).
    await waitUntil(() => acked.size >= MIN_ACKED, 120_000, `${MIN_ACKED} acknowledgements`, 100);
    stop = true;
    await Promise.all(lanes);
    await waitForDelivery(acked, sink.subjects, 120_000);
    const counts = reportCounts(`sentinel failover (${durability})`, acked, sink.subjects, kills);
    figures.acked = counts.acked;
    figures.lost = counts.missing.length;
    figures.duplicates = counts.duplicates;
    console.log(
      `# sentinel failover (${durability}): lost ${figures.lost}, first acceptance after each kill ${figures.acceptAfter.join(', ')} s, first delivery ${figures.deliverAfter.join(', ')} s`,
    );
    return figures;
  } finally {
    await Promise.all(relays.map((relay) => relay.kill('SIGKILL')));
    await sink.close();
    await group.stop();
    data.remove();
  }
}

/**
 * What a failed wait for delivery found: the queue's lists on the current primary and
 * the workers' own words, so a stall in CI can be told apart from a lost job.
 */
async function explainStall(group: SentinelGroup, relays: RelayProcess[]): Promise<string> {
  const lines: string[] = [];
  try {
    const port = await group.primaryPort();
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const prefix = `${createKeys().queuePrefix()}:${createKeys().queueName()}`;
    const [wait, active, delayed, prioritized, marker, meta] = await Promise.all([
      client.llen(`${prefix}:wait`),
      client.llen(`${prefix}:active`),
      client.zcard(`${prefix}:delayed`),
      client.zcard(`${prefix}:prioritized`),
      client.zcard(`${prefix}:marker`),
      client.hgetall(`${prefix}:meta`),
    ]);
    const clients = await client.client('LIST');
    lines.push(
      `primary ${port}: wait ${wait}, active ${active}, delayed ${delayed}, prioritized ${prioritized}, marker ${marker}, meta ${JSON.stringify(meta)}`,
      `clients on the primary:\n${String(clients)
        .split('\n')
        .filter((line) => line.includes('postwarden'))
        .map((line) =>
          line.replace(
            / (fd|age|idle|flags|db|sub|psub|ssub|multi|qbuf|qbuf-free|argv-mem|multi-mem|rbs|rbp|obl|oll|omem|tot-mem|events|user|redir|resp|lib-name|lib-ver)=\S*/g,
            '',
          ),
        )
        .join('\n')}`,
    );
    client.disconnect();
  } catch (error) {
    lines.push(`could not read the primary: ${(error as Error).message}`);
  }
  for (const [index, relay] of relays.entries()) {
    lines.push(`--- relay ${index} (last 3000 characters) ---`, relay.output().slice(-3000));
  }
  return lines.join('\n');
}

describe('fault: Sentinel failovers under load, two intakes and two workers', {
  timeout: 900_000,
}, () => {
  it('replicated: the primary SIGKILLed twice, no acknowledged message lost', async () => {
    const figures = await failoverRun('replicated');
    assert.ok(figures.acked >= MIN_ACKED, `acked ${figures.acked}`);
    assert.equal(figures.lost, 0, 'every acknowledged message delivered');
    assert.ok(figures.acceptAfter.length >= 1, 'at least one failover happened and was survived');
  });

  it('fsync: the same run, to show what replicated buys (losses reported)', async () => {
    const figures = await failoverRun('fsync');
    assert.ok(figures.acked >= MIN_ACKED, `acked ${figures.acked}`);
    // Asynchronous replication may lose what the primary acknowledged just before it died:
    // reported above, not asserted.
  });
});
