import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { settings } from '../../src/config/schema.js';

const readme = readFileSync('README.md', 'utf8');

/** The README's configuration table: variable → default cell. */
function readmeTable(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of readme.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)) {
    rows.set(match[1] as string, (match[2] as string).trim());
  }
  return rows;
}

describe('README configuration table', () => {
  it('lists every setting of the schema with its default, and nothing else', () => {
    const table = readmeTable();
    const expected = new Map(
      Object.values(settings).map((setting) => [
        setting.env,
        setting.defaultText === undefined
          ? 'unset'
          : setting.defaultText === ''
            ? '(empty)'
            : `\`${setting.defaultText}\``,
      ]),
    );
    assert.deepEqual([...table.keys()].sort(), [...expected.keys()].sort());
    for (const [variable, defaultCell] of expected)
      assert.equal(table.get(variable), defaultCell, variable);
  });

  it('keeps the two quick-start commands', () => {
    assert.ok(readme.includes('npm ci && npm start'));
    assert.ok(readme.includes('npm ci && npm test'));
  });
});
