import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { activeJobIds, useSinkWorld, waitForDelivery } from '../support/faults-harness.js';
import { type Credentials, sendHttp, sendSmtp } from '../support/load-clients.js';
import { relayEnv, tempDataDir } from '../support/relay-env.js';
import { runRelayCommand } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

/** The default POSTWARDEN_HOLD_ABOVE (the drill runs on defaults). */
const HOLD_ABOVE = 1000;
const HTTP_LANES = 12;
const SMTP_LANES = 4;
const CONCURRENCY = 20;

interface Push {
  tokens: Set<string>;
  accepted: number;
  held: number;
  refused: number;
  failed: number;
  firstAt: number;
  /** Active delivery jobs when the hold was first seen. */
  inFlightAtHold: number;
}

/**
 * Issue 10, the leak drill: a credential with default settings whose key "leaked" — clients
 * push as fast as they can over HTTP and SMTP to fresh recipients. The relay holds it past
 * 1000 in the trailing hour, keeps the rest held (refusing past POSTWARDEN_HOLD_MAX), and
 * delivers none of them: purge ends them, nothing reaches the upstream. A second run shows
 * release delivering every held message exactly once.
 */
describe('fault: leak drill (a stolen key is not a spam cannon)', { timeout: 360_000 }, () => {
  const fixture = useSinkWorld();
  const cliData = tempDataDir('pw-leak-cli-');
  let redis: Redis;
  const keys = createKeys();
  let cliEnv: Record<string, string>;

  before(async () => {
    const { world } = fixture;
    redis = new Redis({ path: world.redis.socket });
    await world.startRelay('intake');
    await world.startRelay('worker', { POSTWARDEN_WORKER_CONCURRENCY: String(CONCURRENCY) });
    cliEnv = relayEnv({ dataDir: cliData.dir, ports: world.ports, redisUrl: world.redis.url });
  });
  after(() => {
    redis?.disconnect();
    cliData.remove();
  });

  async function cli(args: string[]): Promise<Record<string, unknown>> {
    const result = await runRelayCommand([...args, '--json'], cliEnv, { timeoutMs: 120_000 });
    assert.equal(result.code, 0, `postwarden ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  async function leakedCredential(name: string): Promise<Credentials> {
    const { secret } = await new CredentialStore(redis, keys).create({
      name,
      allowFrom: ['*@example.com'],
    });
    return { name, secret };
  }

  /** Every lane sends back to back for `seconds`, each message to a fresh recipient. */
  async function push(credentials: Credentials, seconds: number): Promise<Push> {
    const { world } = fixture;
    const result: Push = {
      tokens: new Set(),
      accepted: 0,
      held: 0,
      refused: 0,
      failed: 0,
      firstAt: Date.now(),
      inFlightAtHold: -1,
    };
    const until = Date.now() + seconds * 1000;
    let sequence = 0;
    const watchHold = (async () => {
      await waitUntil(
        async () => (await redis.exists(keys.hold(credentials.name))) === 1 || Date.now() > until,
        seconds * 1000 + 5000,
        'the hold',
        20,
      );
      result.inFlightAtHold = (await activeJobIds(world)).length;
    })();
    const lane = async (protocol: 'http' | 'smtp') => {
      while (Date.now() < until) {
        sequence += 1;
        const token = `${credentials.name}-${sequence}`;
        const mail = {
          from: 'leak@example.com',
          to: [`victim${sequence}@example.net`],
          subject: token,
          text: 'buy now',
        };
        try {
          if (protocol === 'http') {
            const { status, body } = await sendHttp(world.ports.http, credentials, mail);
            if (status === 202) {
              result.accepted += 1;
              if (body.status === 'held') result.held += 1;
              result.tokens.add(token);
            } else if (
              status === 429 &&
              (body.error as { code?: string })?.code === 'credential_held'
            ) {
              result.refused += 1;
            } else result.failed += 1;
          } else {
            await sendSmtp(world.ports.smtp, credentials, mail);
            result.accepted += 1;
            result.tokens.add(token);
          }
        } catch (error) {
          if ((error as { responseCode?: number }).responseCode === 451) result.refused += 1;
          else result.failed += 1;
        }
      }
    };
    await Promise.all([
      ...Array.from({ length: HTTP_LANES }, () => lane('http')),
      ...Array.from({ length: SMTP_LANES }, () => lane('smtp')),
    ]);
    await watchHold;
    return result;
  }

  const deliveredOf = (tokens: Set<string>) =>
    [...tokens].filter((token) => fixture.sink.subjects.has(token)).length;

  async function holdInfo(name: string) {
    return redis.hgetall(keys.hold(name));
  }

  it('holds the leaked key within its hourly threshold, and purge leaves nothing to deliver', async () => {
    const { world } = fixture;
    const credentials = await leakedCredential('leak1');
    const run = await push(credentials, 60);
    const hold = await holdInfo('leak1');
    assert.equal(hold.reason, 'volume', 'held by volume');
    const heldNow = await redis.scard(keys.heldMessages('leak1'));
    // Nothing is pending but held messages: whatever was queued before the hold is
    // delivered or held by the worker.
    await waitUntil(async () => (await world.pendingJobs()) === 0, 60_000, 'an idle queue', 200);
    const deliveredBeforeHold = deliveredOf(run.tokens);
    console.log(
      `# leak-drill run 1: accepted ${run.accepted} (held at the door ${run.held}), refused ${run.refused}, ` +
        `failed ${run.failed}; delivered before the hold ${deliveredBeforeHold}; held ${await redis.scard(keys.heldMessages('leak1'))}; ` +
        `first message → hold ${Date.parse(hold.at as string) - run.firstAt} ms; in flight at the hold ${run.inFlightAtHold}`,
    );
    assert.ok(heldNow > 0);
    assert.ok(run.refused > 0 || run.accepted <= 10_000 + HOLD_ABOVE, 'past HOLD_MAX: refused');
    assert.ok(
      deliveredBeforeHold <= HOLD_ABOVE + Math.max(0, run.inFlightAtHold),
      `delivered ${deliveredBeforeHold} ≤ ${HOLD_ABOVE} + in flight ${run.inFlightAtHold}`,
    );
    const purged = await cli(['queue', 'purge', '--credential', 'leak1']);
    const deliveredAtPurge = deliveredOf(run.tokens);
    console.log(`# leak-drill run 1: purged ${purged.count}`);
    assert.equal(await redis.scard(keys.heldMessages('leak1')), 0, '0 held after purge');
    assert.equal(purged.count, run.accepted - deliveredAtPurge, 'every undelivered one purged');
    // A release now has nothing to deliver: the purged messages never reach the upstream.
    assert.equal((await cli(['release', 'leak1'])).released, 0);
    await waitUntil(async () => (await world.pendingJobs()) === 0, 30_000, 'an idle queue', 200);
    assert.equal(deliveredOf(run.tokens), deliveredAtPurge, 'nothing purged was delivered');
  });

  it('release delivers every held message exactly once', async () => {
    const credentials = await leakedCredential('leak2');
    const run = await push(credentials, 15);
    const held = await redis.scard(keys.heldMessages('leak2'));
    const { released } = (await cli(['release', 'leak2'])) as { released: number };
    const missing = await waitForDelivery(run.tokens, fixture.sink.subjects, 180_000);
    const duplicates = [...run.tokens].filter((t) => (fixture.sink.subjects.get(t) ?? 0) > 1);
    console.log(
      `# leak-drill run 2: accepted ${run.accepted}, held ${held}, released ${released}, ` +
        `delivered ${deliveredOf(run.tokens)}, missing ${missing.length}, duplicates ${duplicates.length}`,
    );
    assert.ok(held > 0);
    assert.ok(released >= held);
    assert.deepEqual(missing, []);
    assert.deepEqual(duplicates, []);
  });
});
