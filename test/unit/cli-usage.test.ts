import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../src/cli/index.js';
import { parseRole } from '../../src/runtime/roles.js';

/**
 * CONTRACT §CLI exit codes: 2 for a usage error. Every case here is refused while parsing
 * the arguments, before any configuration is read or any Redis is reached.
 */
async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('postwarden usage', () => {
  it('prints the usage on stderr and exits 2 without a command', async () => {
    const result = await run([]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Usage:\n\s+postwarden start \[--role all\|intake\|worker\]/);
    assert.equal(result.stdout, '');
  });

  it('prints the usage on stdout and exits 0 for --help', async () => {
    const result = await run(['--help']);
    assert.equal(result.code, 0);
    for (const command of [
      'credentials create',
      'queue stats',
      'queue purge',
      'hold NAME',
      'release NAME',
      'pause',
      'audit',
      'bans list',
      'admin set-password',
      'forms create',
      'forms spam',
      'webhooks add',
      'webhooks list',
    ])
      assert.ok(result.stdout.includes(`postwarden ${command}`), command);
  });

  const usageErrors: string[][] = [
    ['frobnicate'],
    ['start', '--role', 'boss'],
    ['start', 'now'],
    ['start', '--port', '25'],
    ['credentials'],
    ['credentials', 'create'],
    ['credentials', 'create', 'shop'],
    ['credentials', 'create', 'shop', '--allow-from'],
    ['credentials', 'create', 'shop', '--allow-from', '*@example.com', '--rate', 'fast'],
    ['credentials', 'create', 'shop', '--allow-from', '*@example.com', '--rate', '0/min'],
    ['credentials', 'create', 'shop', '--allow-from', '*@example.com', '--max-recipients', '-3'],
    ['credentials', 'list', 'extra'],
    ['credentials', 'revoke'],
    ['credentials', 'rotate'],
    ['credentials', 'delete', 'shop'],
    ['queue'],
    ['queue', 'show'],
    ['queue', 'retry'],
    ['queue', 'retry', 'ID', '--all-failed'],
    ['queue', 'stats', 'extra'],
    ['queue', 'purge', 'ID'],
    ['queue', 'purge', '--status', 'delivered'],
    ['credentials', 'create', 'shop', '--allow-from', '*@example.com', '--hold-above', '5/min'],
    ['hold'],
    ['hold', 'a', 'b'],
    ['release'],
    ['pause', 'now'],
    ['resume', 'later'],
    ['audit', '--limit', 'all'],
    ['bans', 'unban'],
    ['bans', 'unban', 'not-an-ip'],
    ['bans', 'list', '10.0.0.1'],
    ['admin'],
    ['admin', 'reset'],
    ['selftest', 'now'],
    ['selftest', '--smtp', 'no-port'],
    // Lead forms (issue 12).
    ['forms'],
    ['forms', 'create'],
    ['forms', 'create', 'contact', '--origin', 'https://www.example.com'],
    ['forms', 'create', 'contact', '--to', 'sales@example.com'],
    [
      'forms',
      'create',
      'contact',
      '--to',
      'a@example.com',
      '--origin',
      'https://x.example',
      '--rate',
      'fast',
    ],
    ['forms', 'list', 'extra'],
    ['forms', 'remove'],
    ['forms', 'spam', 'release'],
    ['forms', 'spam', 'list', 'ID'],
    // Webhooks (issue 13): an unknown event type is a usage error, before any Redis.
    ['webhooks'],
    ['webhooks', 'add'],
    ['webhooks', 'add', 'https://example.com/h', '--events', 'opened'],
    ['webhooks', 'add', 'https://example.com/h', '--events', ''],
    ['webhooks', 'list', 'extra'],
    ['webhooks', 'remove'],
    ['webhooks', 'rotate'],
    ['webhooks', 'list', '--events', 'delivered'],
    ['forms', 'spam', 'purge'],
  ];
  for (const argv of usageErrors) {
    it(`exits 2 for: postwarden ${argv.join(' ')}`, async () => {
      const result = await run(argv);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^postwarden: .+\n[\s\S]*Usage:/);
    });
  }

  it('answers a usage error as JSON on stdout with --json', async () => {
    const result = await run(['credentials', 'create', 'shop', '--json']);
    assert.equal(result.code, 2);
    const body = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'usage');
    assert.match(body.error.message, /--allow-from/);
    assert.equal(result.stderr, '');
  });

  it('knows the three roles, defaulting to all', () => {
    assert.equal(parseRole(undefined), 'all');
    assert.equal(parseRole('intake'), 'intake');
    assert.equal(parseRole('worker'), 'worker');
    assert.equal(parseRole('everything'), undefined);
  });
});
