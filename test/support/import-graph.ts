/**
 * The folder-level import graph of the product code, read from the import lines (madge is not installed, and a
 * regular expression over `import`/`export … from` is enough for this tree). A folder is `src/<name>` (files
 * directly in `src/` count as `src`), `workflows` or `activities`; subfolders belong to their folder. Type-only
 * imports count too: a folder that names another's types depends on it as much as one that calls it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOTS = ['src', 'workflows', 'activities'];
const SOURCE = /\.(ts|mts|cts|mjs|cjs|js)$/;

/** `import … from '…'`, `export … from '…'`, `import '…'`: statements start a line and end at a semicolon. */
const STATIC = /^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;
/** `import('…')`, as a dynamic import or a type reference (`import('../x.js').T`). */
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface ImportEdge {
  from: string;
  to: string;
  /** One file that makes the edge, and the file it imports, relative to the root. */
  example: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'node_modules' ? [] : filesUnder(join(dir, e.name))) : SOURCE.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The folder a root-relative path belongs to, or undefined outside the product code. */
export function folderOf(path: string): string | undefined {
  const parts = path.split(/[\\/]/);
  if (!ROOTS.includes(parts[0])) return undefined;
  if (parts[0] === 'src' && parts.length > 2) return `src/${parts[1]}`;
  return parts[0];
}

/** The relative specifiers a file imports. */
export function importsOf(text: string): string[] {
  const specs = [...text.matchAll(STATIC)].map((m) => m[1] ?? m[2]);
  specs.push(...[...text.matchAll(DYNAMIC)].map((m) => m[1]));
  return specs.filter((s) => s.startsWith('.'));
}

/** Every edge between two different folders, one per folder pair (with the first file seen making it). */
export function folderEdges(root: string): ImportEdge[] {
  const edges = new Map<string, ImportEdge>();
  for (const top of ROOTS) {
    for (const file of filesUnder(join(root, top))) {
      const path = relative(root, file).split(sep).join('/');
      const from = folderOf(path)!;
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const target = relative(root, resolve(dirname(file), spec))
          .split(sep)
          .join('/');
        const to = folderOf(target);
        if (!to || to === from) continue;
        const key = `${from} -> ${to}`;
        if (!edges.has(key)) edges.set(key, { from, to, example: `${path} imports ${target}` });
      }
    }
  }
  return [...edges.values()];
}

/** The strongly connected groups of more than one folder (Tarjan): each one is a folder cycle. */
export function folderCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return groups;
}

/** A cycle as a reader needs it to break: every edge inside the group, with a file that makes it. */
export function describeCycle(group: string[], edges: ImportEdge[]): string {
  const inside = edges.filter((e) => group.includes(e.from) && group.includes(e.to));
  return `${group.join(' <-> ')}:\n${inside.map((e) => `  ${e.from} -> ${e.to} (${e.example})`).join('\n')}`;
}
