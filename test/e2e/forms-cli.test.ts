import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { freeRelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import {
  type RelayProcess,
  runRelayCommand,
  spawnRelay,
  waitForRelay,
} from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

const ORIGIN = 'https://www.example.com';

interface CreatedForm {
  name: string;
  id: string;
  to: string[];
  origins: string[];
  endpoint: string;
  snippet: string;
}

/** `postwarden forms ...` against a running relay (CONTRACT §CLI, §Lead forms). */
describe('postwarden forms create / list / remove / spam', { timeout: 90_000 }, () => {
  const data = tempDataDir();
  let redis: TestRedis;
  let upstream: FakeUpstream;
  let relay: RelayProcess;
  let env: Record<string, string>;
  let created: CreatedForm;
  const cli = (args: string[]) => runRelayCommand([...args, '--json'], env);

  before(async () => {
    redis = await startTestRedis();
    upstream = await startFakeUpstream({ mode: 'plain' });
    const ports = await freeRelayPorts();
    env = relayEnv({ dataDir: data.dir, ports, redisUrl: redis.url, upstreamUrl: upstream.url });
    relay = spawnRelay(['start'], env);
    await waitForRelay(relay, ports.http);
  });

  after(async () => {
    await relay?.kill('SIGTERM');
    await upstream?.close();
    await redis?.cleanup();
    data.remove();
  });

  it('create --json prints name, id, to, origins, endpoint and a plain HTML snippet', async () => {
    const result = await cli([
      'forms',
      'create',
      'contact',
      '--to',
      'sales@example.com',
      '--origin',
      ORIGIN,
      '--pow',
    ]);
    assert.equal(result.code, 0, result.stderr);
    created = JSON.parse(result.stdout) as CreatedForm;
    assert.equal(created.name, 'contact');
    assert.match(created.id, /^f_/);
    assert.deepEqual(created.to, ['sales@example.com']);
    assert.deepEqual(created.origins, [ORIGIN]);
    assert.match(created.endpoint, new RegExp(`/v1/forms/${created.id}$`));
    assert.match(created.snippet, /<form method="post" action="[^"]+">/);
    assert.match(created.snippet, /name="_gotcha"/);
    assert.match(created.snippet, /<altcha-widget challenge="[^"]+\/challenge">/);
    const taken = 'forms create contact --to other@example.com --origin'.split(' ');
    const again = await cli([...taken, ORIGIN]);
    assert.equal(again.code, 1);
    const list = JSON.parse((await cli(['forms', 'list'])).stdout) as {
      name: string;
      pow: boolean;
    }[];
    assert.deepEqual(
      list.map((form) => [form.name, form.pow]),
      [['contact', true]],
    );
  });

  it('spam list shows a honeypot post; spam release delivers it once', async () => {
    const plain = JSON.parse(
      (await cli(['forms', 'create', 'site', '--to', 'info@example.com', '--origin', ORIGIN]))
        .stdout,
    ) as CreatedForm;
    const response = await fetch(plain.endpoint, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'message=token-cli-spam&_gotcha=buy',
    });
    assert.equal(response.status, 200);
    const spam = JSON.parse((await cli(['forms', 'spam', 'list'])).stdout) as {
      id: string;
      form: string;
    }[];
    assert.equal(spam.length, 1);
    assert.equal(spam[0]?.form, 'site');
    const id = spam[0]?.id as string;
    const released = await cli(['forms', 'spam', 'release', id]);
    assert.equal(released.code, 0, released.stdout);
    assert.equal(
      (await cli(['forms', 'spam', 'release', id])).code,
      1,
      'a second release finds nothing',
    );
    await waitUntil(
      () => upstream.deliveriesTo('info@example.com') === 1,
      15_000,
      'the released lead',
    );
    assert.equal(upstream.deliveriesTo('info@example.com'), 1);
  });

  it('remove: the id answers 404 form_not_found', async () => {
    assert.equal((await cli(['forms', 'remove', 'contact'])).code, 0);
    assert.equal((await cli(['forms', 'remove', 'contact'])).code, 1);
    const response = await fetch(created.endpoint, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(response.status, 404);
  });
});
