import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The import graph of src/, read as text (no TypeScript compiler): every static
 * `import … from`, `export … from`, side-effect `import '…'` and `import('…')` with a
 * literal specifier. Comments are blanked first, so an import written in a comment is
 * not counted; strings, template literals and regular expressions are skipped over so
 * that a `/*` or a quote inside them does not confuse the scan.
 */

export interface ImportEdge {
  /** The importing file, relative to src/ with forward slashes: `intake/smtp/server.ts`. */
  file: string;
  line: number;
  /** As written: `../../queue/operator.js`. */
  specifier: string;
  /** The imported file relative to src/ (`queue/operator.ts`); `../x` when outside src/. */
  target: string;
  /** `import type` / `export type`: no code is loaded, but the direction still counts. */
  typeOnly: boolean;
}

/** A dynamic `import(…)` whose specifier is not a string literal: it cannot be checked. */
export interface UncheckableImport {
  file: string;
  line: number;
  text: string;
}

/** The room of a path relative to src/: its first directory, or `main`/`errors` for those files. */
export function roomOf(file: string): string {
  const [first = '', ...rest] = file.split('/');
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first;
}

const KEYWORDS_BEFORE_REGEX = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'yield',
  'await',
]);

/**
 * The source with every comment replaced by spaces (newlines kept, so offsets and line
 * numbers stay). A `/` starts a regular expression where an expression may start: after
 * punctuation other than `)` `]` `}`, at the start, or after a keyword such as `return`.
 */
export function blankComments(source: string): string {
  const out = source.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  /** For each open template substitution `${`, the brace depth at which it closes. */
  const templates: number[] = [];
  let depth = 0;
  let last = ''; // the last significant character or word of code
  let i = 0;

  const skipQuoted = (quote: string): void => {
    i++;
    while (i < source.length && source[i] !== quote && source[i] !== '\n') {
      i += source[i] === '\\' ? 2 : 1;
    }
    i++;
  };
  /** From inside a template literal to its closing backtick (true) or a `${` (false). */
  const skipTemplate = (): boolean => {
    while (i < source.length) {
      const c = source[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        return true;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        templates.push(depth);
        depth++;
        return false;
      } else i++;
    }
    return true;
  };
  const skipRegex = (): void => {
    let inClass = false;
    i++;
    while (i < source.length && source[i] !== '\n') {
      const c = source[i];
      if (c === '\\') i++;
      else if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) break;
      i++;
    }
    i++;
    while (i < source.length && /[a-z]/i.test(source[i] ?? '')) i++;
  };

  while (i < source.length) {
    const c = source[i] ?? '';
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      skipQuoted(c);
      last = 'x';
    } else if (c === '`') {
      i++;
      last = skipTemplate() ? 'x' : '{';
    } else if (c === '/') {
      if (last === '' || KEYWORDS_BEFORE_REGEX.has(last) || !/[\w$)\]}]/.test(last)) {
        skipRegex();
        last = 'x';
      } else {
        i++;
        last = '/';
      }
    } else if (/[\w$]/.test(c)) {
      const word = /^[\w$]+/.exec(source.slice(i, i + 64))?.[0] ?? c;
      i += word.length;
      last = word;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      if (c === '{') depth++;
      if (c === '}') {
        depth--;
        if (templates.length > 0 && templates[templates.length - 1] === depth) {
          templates.pop();
          i++;
          last = skipTemplate() ? 'x' : '{';
          continue;
        }
      }
      last = c;
      i++;
    }
  }
  return out.join('');
}

// `import x from`, `import type { a,\n b } from`, `import * as x from`, `export { a } from`,
// `export * from`, `export * as x from`, `import x, { y } from`.
const STATIC =
  /(?<![\w$.])(import|export)\s+(type\s+)?((?:[\w$]+\s*,\s*)?(?:\{[^{}]*\}|\*(?:\s*as\s+[\w$]+)?|[\w$]+))\s*from\s*(['"])([^'"\n]*)\4/g;
const SIDE_EFFECT = /(?<![\w$.])import\s*(['"])([^'"\n]*)\1/g;
const DYNAMIC = /(?<![\w$.])import\s*\(/g;
const DYNAMIC_LITERAL = /^import\s*\(\s*(['"`])([^'"`\n$]*)\1\s*[,)]/;

export interface FoundSpecifier {
  specifier: string;
  /** 0-based offset of the statement in the source. */
  offset: number;
  typeOnly: boolean;
}

/** Every module specifier in `source`, plus the dynamic imports that have no literal one. */
export function findSpecifiers(source: string): {
  specifiers: FoundSpecifier[];
  uncheckable: { offset: number; text: string }[];
} {
  const code = blankComments(source);
  const specifiers: FoundSpecifier[] = [];
  for (const match of code.matchAll(STATIC)) {
    specifiers.push({ specifier: match[5] ?? '', offset: match.index, typeOnly: !!match[2] });
  }
  for (const match of code.matchAll(SIDE_EFFECT)) {
    specifiers.push({ specifier: match[2] ?? '', offset: match.index, typeOnly: false });
  }
  const uncheckable: { offset: number; text: string }[] = [];
  for (const match of code.matchAll(DYNAMIC)) {
    const text = code.slice(match.index, match.index + 200);
    const literal = DYNAMIC_LITERAL.exec(text);
    if (literal) {
      specifiers.push({ specifier: literal[2] ?? '', offset: match.index, typeOnly: false });
    } else {
      uncheckable.push({ offset: match.index, text: text.split('\n')[0] ?? '' });
    }
  }
  return { specifiers: specifiers.sort((a, b) => a.offset - b.offset), uncheckable };
}

function listTsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => name.split(path.sep).join('/'))
    .sort();
}

/** `./x.js` from `intake/a.ts` → `intake/x.ts` (the .ts file TypeScript compiles to x.js). */
function resolveTarget(srcDir: string, file: string, specifier: string): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  const ts = joined.replace(/\.js$/, '.ts');
  return existsSync(path.join(srcDir, ts)) ? ts : joined;
}

/** The relative imports of every .ts file under `srcDir` (package imports are left out). */
export function readImportGraph(srcDir: string): {
  files: string[];
  edges: ImportEdge[];
  uncheckable: UncheckableImport[];
} {
  const files = listTsFiles(srcDir);
  const edges: ImportEdge[] = [];
  const uncheckable: UncheckableImport[] = [];
  for (const file of files) {
    const source = readFileSync(path.join(srcDir, file), 'utf8');
    const lineAt = (offset: number) => source.slice(0, offset).split('\n').length;
    const found = findSpecifiers(source);
    for (const { specifier, offset, typeOnly } of found.specifiers) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveTarget(srcDir, file, specifier);
      edges.push({ file, line: lineAt(offset), specifier, target, typeOnly });
    }
    for (const { offset, text } of found.uncheckable) {
      uncheckable.push({ file, line: lineAt(offset), text });
    }
  }
  return { files, edges, uncheckable };
}
