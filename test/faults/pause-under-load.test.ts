import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { reportCounts, useSinkWorld, waitForDelivery } from '../support/faults-harness.js';
import { relayEnv, tempDataDir } from '../support/relay-env.js';
import { runRelayCommand } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

const LANES = 8;
/** Each delivery takes this long at the sink, so deliveries are in flight at any moment. */
const SINK_DELAY_MS = 30;
const CONCURRENCY = 10;

/**
 * Issue 10, item 4: the kill switch under load, with intake and worker in separate
 * processes. Traffic flows; `postwarden pause` → the upstream receives nothing new within
 * 1 s (only what was already handed over finishes); acceptance goes on; `resume` → every
 * acknowledged message delivered, 0 lost, 0 duplicates.
 */
describe('fault: pause under load, worker in its own process', { timeout: 180_000 }, () => {
  const fixture = useSinkWorld({ dataDelayMs: SINK_DELAY_MS });
  const cliData = tempDataDir('pw-pause-cli-');
  after(() => cliData.remove());

  it('stops delivery within a second of pause and loses nothing across resume', async () => {
    const { sink, world } = fixture;
    await world.startRelay('intake');
    await world.startRelay('worker', { POSTWARDEN_WORKER_CONCURRENCY: String(CONCURRENCY) });
    const cliEnv = relayEnv({
      dataDir: cliData.dir,
      ports: world.ports,
      redisUrl: world.redis.url,
    });
    const cli = async (args: string[]) => {
      const result = await runRelayCommand(args, cliEnv);
      assert.equal(result.code, 0, `postwarden ${args.join(' ')}: ${result.stderr}`);
    };

    const acked = new Set<string>();
    const ackedAt = new Map<string, number>();
    let running = true;
    let sent = 0;
    const traffic = Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        while (running) {
          const token = `pause-${lane}-${sent++}`;
          const result = await world.send(token, sent % 5 === 0 ? 'smtp' : 'http');
          if (result.acked) {
            acked.add(token);
            ackedAt.set(token, Date.now());
          }
        }
      }),
    );
    await waitUntil(() => sink.received.length >= 100, 30_000, 'traffic flowing', 50);

    const pauseStarted = Date.now();
    await cli(['pause', '--reason', 'fault test']);
    const pausedAt = Date.now();
    const ackedBeforePause = acked.size;
    // Stay paused for 3 s with traffic still flowing into the intake.
    await waitUntil(() => Date.now() - pausedAt >= 3000, 5000, '3 s paused', 100);
    // Measured from the moment the command started (the flag is set somewhere inside it).
    const receivedWhilePaused = sink.received.filter((m) => m.receivedAt > pauseStarted);
    const late = receivedWhilePaused.filter((m) => m.receivedAt > pausedAt + 1000);
    const lastDelivery = Math.max(pauseStarted, ...receivedWhilePaused.map((m) => m.receivedAt));
    const acceptedWhilePaused = acked.size - ackedBeforePause;
    console.log(
      `# pause-under-load: the pause command took ${pausedAt - pauseStarted} ms; deliveries after it began ` +
        `${receivedWhilePaused.length}, the last ${lastDelivery - pauseStarted} ms after it began; ` +
        `accepted while paused ${acceptedWhilePaused}`,
    );
    assert.equal(late.length, 0, 'nothing reaches the upstream more than 1 s after pause');
    const afterFlagSet = sink.received.filter((m) => m.receivedAt > pausedAt).length;
    assert.ok(
      afterFlagSet <= CONCURRENCY,
      `only what was already handed over finishes (${afterFlagSet} after the command returned)`,
    );
    assert.ok(acceptedWhilePaused > 0, 'acceptance goes on while paused');

    await cli(['resume']);
    running = false;
    await traffic;
    const missing = await waitForDelivery(acked, sink.subjects, 90_000);
    const counts = reportCounts('pause-under-load', acked, sink.subjects, 0);
    assert.deepEqual(missing, [], 'every acknowledged message delivered after resume');
    assert.equal(counts.duplicates, 0);
  });
});
