import { type ImportEdge, roomOf } from './imports.js';

/**
 * What a room may import. Each entry of `may` is a room (`queue`: any file in it), one
 * file of a room (`queue/operator.ts`: only that file) or `*` (every room). Files of the
 * same room always import each other.
 */
export interface RoomRule {
  may: readonly string[];
  /** The rule in words, quoted in a failure (ARCHITECTURE.md's wording where it has one). */
  why: string;
}

export type RoomRules = Readonly<Record<string, RoomRule>>;

/** `admin/deps.ts -> queue/message-store.ts`: how KNOWN_VIOLATIONS names an import. */
export function edgeKey(edge: Pick<ImportEdge, 'file' | 'target'>): string {
  return `${edge.file} -> ${edge.target}`;
}

function allows(rule: RoomRule, target: string): boolean {
  return rule.may.includes('*') || rule.may.includes(roomOf(target)) || rule.may.includes(target);
}

/** A description of why `edge` breaks the rules, or undefined when it keeps them. */
export function breach(edge: ImportEdge, rules: RoomRules): string | undefined {
  const from = roomOf(edge.file);
  const to = roomOf(edge.target);
  const where = `src/${edge.file}:${edge.line} imports '${edge.specifier}'${edge.typeOnly ? ' (type-only)' : ''}`;
  const rule = rules[from];
  if (!rule) return `${where}: room '${from}' is not in the table of rooms; add it with its rule`;
  if (edge.target.startsWith('../')) return `${where}: it resolves outside src/`;
  if (from === to) return undefined;
  if (!rules[to])
    return `${where}: room '${to}' is not in the table of rooms; add it with its rule`;
  if (allows(rule, edge.target)) return undefined;
  const may = rule.may.length > 0 ? [...new Set(rule.may)].join(', ') : 'no other room';
  return `${where} → ${edge.target}: ${from} may import only ${may} (${rule.why})`;
}

/**
 * Every breach not in `known`, plus every `known` entry that no longer occurs as a
 * breach (fixed, or the import is gone): the allowlist may only shrink.
 */
export function checkBoundaries(
  edges: readonly ImportEdge[],
  rules: RoomRules,
  known: readonly string[],
): string[] {
  const problems: string[] = [];
  const stillNeeded = new Set<string>();
  for (const edge of edges) {
    const problem = breach(edge, rules);
    if (problem === undefined) continue;
    const key = edgeKey(edge);
    if (known.includes(key)) stillNeeded.add(key);
    else problems.push(problem);
  }
  for (const key of known) {
    if (!stillNeeded.has(key)) {
      problems.push(
        `KNOWN_VIOLATIONS lists '${key}', which no longer breaks a rule (or no longer exists): remove the entry`,
      );
    }
  }
  return problems;
}

/**
 * Cycles between rooms (Tarjan's strongly connected components over room → room
 * edges), each as the rooms in it plus one import per step as evidence. Edges in
 * `ignore` (keys as edgeKey) are left out.
 */
export function findRoomCycles(
  edges: readonly ImportEdge[],
  ignore: readonly string[] = [],
): string[] {
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const edge of edges) {
    const from = roomOf(edge.file);
    const to = roomOf(edge.target);
    if (from === to || ignore.includes(edgeKey(edge))) continue;
    const out = graph.get(from) ?? new Map<string, ImportEdge>();
    if (!out.has(to)) out.set(to, edge);
    graph.set(from, out);
    if (!graph.has(to)) graph.set(to, new Map());
  }

  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (room: string): void => {
    index.set(room, index.size);
    low.set(room, index.get(room) ?? 0);
    stack.push(room);
    onStack.add(room);
    for (const next of graph.get(room)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(room, Math.min(low.get(room) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(room, Math.min(low.get(room) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(room) === index.get(room)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== room);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const room of [...graph.keys()].sort()) if (!index.has(room)) visit(room);

  return components.map((rooms) => {
    const evidence = rooms.flatMap((from) =>
      [...(graph.get(from) ?? [])]
        .filter(([to]) => rooms.includes(to))
        .map(([to, edge]) => `${from} → ${to} (src/${edge.file}:${edge.line})`),
    );
    return `rooms import each other in a cycle: ${rooms.join(', ')}: ${evidence.join('; ')}`;
  });
}
