/**
 * No folder of the product code depends on itself through another: src/<name> folders, workflows and activities form
 * a graph without cycles (type-only imports included). A cycle means two folders can no longer be read, tested or
 * changed apart; the message names every edge of it with a file that makes it, so it can be broken where it began.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeCycle, folderCycles, folderEdges, folderOf, importsOf } from '../support/import-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('folder-level import graph', () => {
  const edges = folderEdges(ROOT);

  it('has no cycle among src/*, workflows and activities', () => {
    const cycles = folderCycles(edges).map((group) => describeCycle(group, edges));
    expect(cycles).toEqual([]);
  });

  it('sees the edges the layers are made of (a scanner that reads nothing would find no cycle either)', () => {
    const pairs = new Set(edges.map((e) => `${e.from} -> ${e.to}`));
    for (const edge of [
      'workflows -> src/config',
      'workflows -> activities',
      'src/cli -> workflows',
      'src/config -> src/identity',
      'src/canary -> src/config',
      'activities -> src/pulse',
    ]) {
      expect(pairs).toContain(edge);
    }
  });

  it('finds a cycle, through several folders, and names its edges', () => {
    const cycle = [
      { from: 'src/a', to: 'src/b', example: 'src/a/x.ts imports src/b/y.js' },
      { from: 'src/b', to: 'workflows', example: 'src/b/y.ts imports workflows/z.js' },
      { from: 'workflows', to: 'src/a', example: 'workflows/z.ts imports src/a/x.js' },
      { from: 'workflows', to: 'activities', example: 'workflows/z.ts imports activities/w.js' },
    ];
    const found = folderCycles(cycle);
    expect(found).toEqual([['src/a', 'src/b', 'workflows']]);
    expect(describeCycle(found[0], cycle)).toContain('src/b -> workflows (src/b/y.ts imports workflows/z.js)');
    expect(folderCycles(cycle.slice(1))).toEqual([]);
  });

  it('reads static, re-exported, multi-line, type-only and dynamic imports, and ignores packages', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { c } from './c.js';",
      'import {',
      '  d,',
      "} from '../d/d.js';",
      "const e = await import('../e/e.js');",
      "type F = import('../f/f.js').F;",
      "import { z } from 'zod';",
      "import './side-effect.js';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', '../b/b.js', './c.js', '../d/d.js', './side-effect.js', '../e/e.js', '../f/f.js']);
  });

  it('names folders: src/<name>, src itself, workflows and activities with their subfolders, nothing else', () => {
    expect(folderOf('src/canary/state.ts')).toBe('src/canary');
    expect(folderOf('src/worker.ts')).toBe('src');
    expect(folderOf('workflows/support/evidence-log.ts')).toBe('workflows');
    expect(folderOf('activities/support/heartbeat.ts')).toBe('activities');
    expect(folderOf('test/support/e2e.ts')).toBeUndefined();
  });
});
