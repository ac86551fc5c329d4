import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RelayHarness, startRelayHarness } from '../support/relay-harness.js';
import { runRelayCommand as runCommand } from '../support/relay-process.js';

/** `credentials create --allow-to` and what `credentials list` shows (CONTRACT §CLI). */
describe('postwarden credentials --allow-to', { timeout: 60_000 }, () => {
  let harness: RelayHarness;
  const cli = (args: string[]) => runCommand(args, harness.env);

  before(async () => {
    harness = await startRelayHarness();
  });

  after(async () => {
    await harness?.stop();
  });

  it('create --json prints allowTo when set; list shows it with the id and generation', async () => {
    const created = await cli([
      'credentials',
      'create',
      'ops',
      '--allow-from',
      '*@example.com',
      '--allow-to',
      'oncall@example.net',
      '--allow-to',
      '*@*.example.org',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const json = JSON.parse(created.stdout) as { secret: string; allowTo: string[] };
    assert.deepEqual(json.allowTo, ['oncall@example.net', '*@*.example.org']);
    const plain = await cli([
      'credentials',
      'create',
      'app',
      '--allow-from',
      '*@example.com',
      '--json',
    ]);
    assert.equal('allowTo' in (JSON.parse(plain.stdout) as object), false);

    const list = await cli(['credentials', 'list', '--json']);
    const listed = JSON.parse(list.stdout) as Array<{
      name: string;
      id: string;
      generation: number;
      allowTo: string[];
    }>;
    const ops = listed.find((c) => c.name === 'ops');
    assert.deepEqual(ops?.allowTo, ['oncall@example.net', '*@*.example.org']);
    assert.match(ops?.id ?? '', /^cr_/);
    assert.equal(ops?.generation, 1);
    assert.match(
      (await cli(['credentials', 'list'])).stdout,
      /^ops\t.*allow-to oncall@example\.net,\*@\*\.example\.org/m,
    );

    const response = await fetch(`http://127.0.0.1:${harness.ports.http}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${json.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'a@example.com', to: 'eve@evil.test', subject: 's', text: 't' }),
    });
    assert.equal(response.status, 403);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      'recipient_not_allowed',
    );
  });

  it('refuses a malformed --allow-to pattern', async () => {
    const result = await cli([
      'credentials',
      'create',
      'bad',
      '--allow-from',
      '*@example.com',
      '--allow-to',
      'nobody',
      '--json',
    ]);
    assert.equal(result.code, 1);
    assert.equal(
      (JSON.parse(result.stdout) as { error: { code: string } }).error.code,
      'invalid_allow_to',
    );
  });
});
