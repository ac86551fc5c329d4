import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readImportGraph, roomOf } from './imports.js';
import { checkBoundaries, findRoomCycles, type RoomRules } from './rules.js';

/** The base rooms (message among them): imported by the rooms above, importing none of them. */
const BASE = ['config', 'message', 'observability', 'redis', 'errors'] as const;

/**
 * The allowed directions of shared/ARCHITECTURE.md ("Imports point one way"), one row per
 * room. Files of one room import each other freely; errors.ts (PostwardenError) is
 * shared by all rooms and imports nothing.
 */
const RULES: RoomRules = {
  main: { may: ['cli', 'errors'], why: 'main.ts is the bin entry: argv → cli' },
  runtime: { may: ['*'], why: 'runtime and cli → any room' },
  cli: { may: ['*'], why: 'runtime and cli → any room' },
  intake: {
    may: ['security', 'queue', ...BASE],
    why: 'intake → security, queue, message; intake and delivery never import each other',
  },
  delivery: {
    may: ['queue', 'upstream', ...BASE],
    why: 'delivery → queue, upstream, message; intake and delivery never import each other',
  },
  admin: {
    may: ['queue/operator.ts', 'security', ...BASE],
    why: 'admin → queue only through queue/operator, and security (convention 19)',
  },
  webhooks: {
    may: ['security', 'queue/scripts.ts', 'queue/transaction.ts', ...BASE],
    why: 'webhooks (issue 13) → security (the SSRF guard), the Lua script and MULTI helpers and the base rooms',
  },
  security: { may: [...BASE], why: 'security, queue, upstream → base rooms' },
  queue: { may: [...BASE], why: 'security, queue, upstream → base rooms' },
  upstream: { may: [...BASE], why: 'security, queue, upstream → base rooms' },
  // Between base rooms, only what the base needs: observability reads the closed outcome
  // types (message) and names its Redis keys (redis); the cycle check keeps it one-way.
  config: { may: ['errors'], why: 'base rooms import none of the rooms above them' },
  message: { may: ['errors'], why: 'message is pure; base rooms import no other room' },
  observability: {
    may: ['message', 'redis', 'errors'],
    why: 'base rooms import none of the rooms above them (observability → message, redis)',
  },
  redis: { may: ['errors'], why: 'base rooms import none of the rooms above them' },
  errors: { may: [], why: 'errors.ts is shared by every room and imports none' },
};

/**
 * Imports that break RULES and are accepted for now, each `file -> imported file`
 * (relative to src/). Empty: the test fails for an entry that no longer occurs, so this
 * list can only shrink. Do not add to it: fix the import instead.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

describe('import boundaries between rooms (ARCHITECTURE.md)', () => {
  const graph = readImportGraph(SRC);

  it('reads the whole tree of src/', () => {
    assert.ok(graph.files.length > 50, `only ${graph.files.length} files found under ${SRC}`);
    assert.ok(graph.edges.length > 200, `only ${graph.edges.length} relative imports found`);
    const rooms = new Set(graph.files.map(roomOf));
    for (const room of rooms) assert.ok(RULES[room], `room '${room}' has no rule in RULES`);
  });

  it('has no dynamic import whose specifier the test cannot read', () => {
    const lines = graph.uncheckable.map(({ file, line, text }) => `src/${file}:${line}: ${text}`);
    assert.deepEqual(lines, [], 'use a string literal in import(…) so its direction is checked');
  });

  it('imports only in the allowed directions', () => {
    const problems = checkBoundaries(graph.edges, RULES, KNOWN_VIOLATIONS);
    assert.equal(problems.length, 0, `\n${problems.join('\n')}\n`);
  });

  it('has no cycle between rooms', () => {
    const cycles = findRoomCycles(graph.edges, KNOWN_VIOLATIONS);
    assert.equal(cycles.length, 0, `\n${cycles.join('\n')}\n`);
  });
});
