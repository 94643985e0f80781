#!/usr/bin/env node
/**
 * `npm run build`: compiles src/, workflows/ and activities/ to dist/ (tsconfig.build.json), copies the plain
 * JavaScript files tsc does not copy (.cjs/.mjs loaded by path at run time), builds the workflow bundle the worker
 * loads (dist/workflow-bundle.js), and last writes dist/.build-stamp with the time the build started
 * (bin/build-freshness.mjs explains the staleness test).
 *
 *   node scripts/build.mjs              always builds
 *   node scripts/build.mjs --if-stale   builds only when dist/ is missing or older than the sources (ensure-deps.sh)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildState, SOURCE_DIRS, STAMP } from '../bin/build-freshness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line) => process.stderr.write(`[build] ${line}\n`);

function copyPlainJs(dir) {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) copyPlainJs(rel);
    else if (/\.(cjs|mjs)$/.test(entry.name)) {
      mkdirSync(path.join(root, 'dist', dir), { recursive: true });
      copyFileSync(path.join(root, rel), path.join(root, 'dist', rel));
    }
  }
}

/**
 * Test-harness entries the suite starts often (a new fault-matrix worker after every kill, the e2e suites' CLI host): transpiled beside
 * the build, so src/host/node-entry.ts can start them without tsx's loader. Only where the sources have them (not in
 * the Docker build context, not in an installed package), and never shipped (package.json "files" leaves dist/bench
 * out). They import only src/, which the build compiles.
 */
const HARNESS_ENTRIES = ['bench/support/fault-worker.ts', 'bench/support/cli-host-child.ts'];

function transpileHarnessEntries() {
  const present = HARNESS_ENTRIES.filter((rel) => existsSync(path.join(root, rel)));
  if (present.length === 0) return;
  const ts = createRequire(import.meta.url)('typescript');
  for (const rel of present) {
    const out = ts.transpileModule(readFileSync(path.join(root, rel), 'utf8'), {
      fileName: rel,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const target = path.join(root, 'dist', rel.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
}

if (process.argv.includes('--if-stale')) {
  const state = buildState(root);
  if (state.fresh) process.exit(0);
  log(state.reason.replace(/ \(npm run build\)$/, ''));
}

const started = Date.now();
// No stamp while building: a build that fails half-way leaves dist/ stale, never "fresh".
rmSync(path.join(root, STAMP), { force: true });
log('compiling to dist/ (tsc -p tsconfig.build.json)');
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
for (const dir of SOURCE_DIRS) copyPlainJs(dir);
transpileHarnessEntries();
log('bundling the workflows (dist/workflow-bundle.js)');
execFileSync(process.execPath, [path.join(root, 'dist', 'scripts', 'build-workflow-bundle.js')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (!existsSync(path.join(root, 'dist', 'workflow-bundle.js'))) throw new Error('the workflow bundle was not written');
writeFileSync(path.join(root, STAMP), `${started}\n`);
log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
