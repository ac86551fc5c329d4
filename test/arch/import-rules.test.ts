import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { findSpecifiers, type ImportEdge, readImportGraph, roomOf } from './imports.js';
import { checkBoundaries, findRoomCycles, type RoomRules } from './rules.js';

function specifiers(source: string): string[] {
  return findSpecifiers(source).specifiers.map(({ specifier, typeOnly }) =>
    typeOnly ? `type ${specifier}` : specifier,
  );
}

function edge(file: string, target: string, line = 1): ImportEdge {
  const specifier = path.posix.relative(path.posix.dirname(file), target).replace(/\.ts$/, '.js');
  return {
    file,
    line,
    specifier: specifier.startsWith('.') ? specifier : `./${specifier}`,
    target,
    typeOnly: false,
  };
}

describe('reading import specifiers', () => {
  it('finds every form of static, re-export, side-effect and literal dynamic import', () => {
    const source = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      'import {',
      '  c,',
      '  type C2, // a comment in the list',
      "} from './c.js';",
      "import * as d from './d.js';",
      "import e, { e2 } from './e.js';",
      "export { f } from './f.js';",
      "export type { G } from './g.js';",
      "export * from './h.js';",
      "export * as i from './i.js';",
      "import './j.js';",
      "const k = await import('./k.js');",
      'const [l] = await Promise.all([',
      "  import('./l.js'),",
      ']);',
      "import pkg from 'some-package';",
    ].join('\n');
    assert.deepEqual(specifiers(source), [
      './a.js',
      'type ./b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      'type ./g.js',
      './h.js',
      './i.js',
      './j.js',
      './k.js',
      './l.js',
      'some-package',
    ]);
  });

  it('ignores imports in comments and is not thrown off by strings, templates and regexes', () => {
    const source = [
      "// import x from './line-comment.js';",
      '/**',
      " * import('./doc-comment.js')",
      ' */',
      "const glob = 'src/*'; // a /* in a string starts no comment",
      "import afterGlob from './after-glob.js';",
      "const close = '*/';",
      'const tick = /[`\'"]/g; const ratio = a / b / c;',
      "// import y from './after-regex.js';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal
      'const text = `tick ${fn({ a: `inner ${1}` })} ${/`/.source} tock`;',
      "// import z from './after-template.js';",
      "import after from './after.js';",
      "const later = () => import('./later.js');",
    ].join('\n');
    assert.deepEqual(specifiers(source), ['./after-glob.js', './after.js', './later.js']);
  });

  it('reports a dynamic import without a literal specifier as uncheckable', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text with a template literal
    const found = findSpecifiers('const m = await import(name);\nawait import(`./${x}.js`);');
    assert.deepEqual(found.specifiers, []);
    assert.equal(found.uncheckable.length, 2);
  });

  it('names rooms by the first directory under src/, top-level files by their name', () => {
    assert.equal(roomOf('intake/smtp/server.ts'), 'intake');
    assert.equal(roomOf('errors.ts'), 'errors');
    assert.equal(roomOf('main.ts'), 'main');
  });
});

describe('reading an import graph from a tree', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postwarden-arch-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves relative .js specifiers to the .ts files under src/', () => {
    mkdirSync(path.join(dir, 'intake/smtp'), { recursive: true });
    mkdirSync(path.join(dir, 'queue'));
    writeFileSync(path.join(dir, 'errors.ts'), 'export class E {}\n');
    writeFileSync(path.join(dir, 'queue/operator.ts'), "import { E } from '../errors.js';\n");
    writeFileSync(
      path.join(dir, 'intake/smtp/server.ts'),
      "import type {\n  Op,\n} from '../../queue/operator.js';\nimport 'node:fs';\n",
    );
    const graph = readImportGraph(dir);
    assert.deepEqual(graph.files, ['errors.ts', 'intake/smtp/server.ts', 'queue/operator.ts']);
    assert.deepEqual(
      graph.edges.map(({ file, line, target, typeOnly }) => ({ file, line, target, typeOnly })),
      [
        { file: 'intake/smtp/server.ts', line: 1, target: 'queue/operator.ts', typeOnly: true },
        { file: 'queue/operator.ts', line: 1, target: 'errors.ts', typeOnly: false },
      ],
    );
  });
});

describe('checking imports against room rules', () => {
  const rules: RoomRules = {
    top: { may: ['*'], why: 'top → any' },
    left: { may: ['base', 'mid/door.ts'], why: 'left → base, and mid only through its door' },
    right: { may: ['base', 'mid'], why: 'right → base, mid' },
    mid: { may: ['base'], why: 'mid → base' },
    base: { may: [], why: 'base imports none' },
  };

  it('passes imports that keep the rules', () => {
    const edges = [
      edge('top/a.ts', 'left/b.ts'),
      edge('left/b.ts', 'base/x.ts'),
      edge('left/b.ts', 'mid/door.ts'),
      edge('left/b.ts', 'left/c.ts'),
      edge('right/d.ts', 'mid/inner.ts'),
    ];
    assert.deepEqual(checkBoundaries(edges, rules, []), []);
  });

  it('names the file, line, import and broken rule', () => {
    const problems = checkBoundaries(
      [edge('left/b.ts', 'right/d.ts', 7), edge('left/b.ts', 'mid/inner.ts', 8)],
      rules,
      [],
    );
    assert.deepEqual(problems, [
      "src/left/b.ts:7 imports '../right/d.js' → right/d.ts: left may import only base, mid/door.ts (left → base, and mid only through its door)",
      "src/left/b.ts:8 imports '../mid/inner.js' → mid/inner.ts: left may import only base, mid/door.ts (left → base, and mid only through its door)",
    ]);
  });

  it('fails for a room that has no rule, on either side', () => {
    const problems = checkBoundaries(
      [edge('new/a.ts', 'base/x.ts'), edge('mid/a.ts', 'other/y.ts')],
      rules,
      [],
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /room 'new' is not in the table/);
    assert.match(problems[1] ?? '', /room 'other' is not in the table/);
  });

  it('lets known violations pass and fails for known violations that are gone', () => {
    const edges = [edge('base/x.ts', 'mid/m.ts')];
    assert.deepEqual(checkBoundaries(edges, rules, ['base/x.ts -> mid/m.ts']), []);
    const problems = checkBoundaries(edges, rules, [
      'base/x.ts -> mid/m.ts',
      'left/b.ts -> right/d.ts',
      'left/b.ts -> base/x.ts',
    ]);
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /KNOWN_VIOLATIONS lists 'left\/b.ts -> right\/d.ts'.*remove/);
    assert.match(problems[1] ?? '', /KNOWN_VIOLATIONS lists 'left\/b.ts -> base\/x.ts'.*remove/);
  });

  it('finds cycles between rooms, leaving out ignored imports', () => {
    const edges = [
      edge('top/a.ts', 'left/b.ts'),
      edge('left/b.ts', 'mid/door.ts'),
      edge('mid/door.ts', 'top/z.ts', 3),
      edge('right/d.ts', 'base/x.ts'),
    ];
    const cycles = findRoomCycles(edges);
    assert.equal(cycles.length, 1);
    assert.match(cycles[0] ?? '', /cycle: left, mid, top: .*mid → top \(src\/mid\/door.ts:3\)/);
    assert.deepEqual(findRoomCycles(edges, ['mid/door.ts -> top/z.ts']), []);
  });
});
