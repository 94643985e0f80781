/**
 * How to start one of this package's TypeScript entry files as a child process: its compiled twin in dist/ when the
 * build is up to date, as plain `node`, else the source through tsx's loader. tsx hooks every module the child
 * loads (node_modules too), which costs about 0.5 CPU-second per start on top of the ~0.5 s the modules themselves
 * take: the suite starts emulators and workers by the hundred, so their starts were a large share of its CPU.
 *
 * Up to date means what bin/pulse-runbook.js asks (bin/build-freshness.mjs: no file under src/, workflows/ or
 * activities/ newer than the build) and also that the compiled file is newer than its own source, for an entry
 * outside those folders (bench/support/fault-worker.ts). Run from dist/, an entry is already compiled.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isBuildFresh } from './build-freshness.js';
import { PACKAGE_ROOT } from './package-root.js';

// Asked once per process: it walks the source folders, and the suite starts children by the dozen.
let buildFresh: Promise<boolean> | undefined;

/** The compiled file dist/ holds for a source file of the package (`src/a/b.ts` → `dist/src/a/b.js`). */
export function compiledTwin(source: string): string {
  const rel = path.relative(PACKAGE_ROOT, source);
  return path.join(PACKAGE_ROOT, 'dist', rel.replace(/\.ts$/, '.js'));
}

/** Node's arguments (after the node binary) that run `entry`, a .ts source of this package or a compiled .js. */
export async function nodeArgsFor(entry: string): Promise<string[]> {
  if (!entry.endsWith('.ts')) return [entry];
  const compiled = compiledTwin(entry);
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= statSync(entry).mtimeMs && (await (buildFresh ??= isBuildFresh())))
    return [compiled];
  return ['--import', 'tsx', entry];
}
