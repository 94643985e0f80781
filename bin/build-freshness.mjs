/**
 * Is the compiled build in dist/ (the CLI and the workflow bundle) up to date with the sources?
 *
 * Plain JavaScript, because bin/pulse-runbook.js asks before it knows whether it may load dist/. The test is
 * deliberately cheap (a few ms for ~200 files): the newest modification time of any file under src/, workflows/ and
 * activities/ (and of package.json, package-lock.json and the tsconfig files) against the time the last build
 * *started*, which scripts/build.mjs writes into dist/.build-stamp when it finishes. Recording the start, not the
 * end, means a file saved while a build ran counts as newer. It can say "stale" for nothing (a touched file, a
 * git checkout that rewrote a file unchanged): the cost is one rebuild, or one slow start from the sources.
 * An installed package ships no sources, so its build is always the current one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const SOURCE_DIRS = ['src', 'workflows', 'activities'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
export const STAMP = path.join('dist', '.build-stamp');

function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(full));
    else if (entry.isFile()) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** The newest source modification time in ms, or 0 when the package has no sources (an installed package). */
export function newestSourceMtime(root) {
  let newest = 0;
  for (const dir of SOURCE_DIRS) if (existsSync(path.join(root, dir))) newest = Math.max(newest, newestUnder(path.join(root, dir)));
  if (newest === 0) return 0;
  for (const file of SOURCE_FILES)
    if (existsSync(path.join(root, file))) newest = Math.max(newest, statSync(path.join(root, file)).mtimeMs);
  return newest;
}

/**
 * `{ fresh: true }` when dist/ was built from the current sources, else `{ fresh: false, reason }` saying what is
 * missing or newer. A package without sources (installed from the tarball) is always fresh: dist/ is all it has.
 */
export function buildState(root) {
  const newest = newestSourceMtime(root);
  if (newest === 0) return { fresh: true };
  const stampFile = path.join(root, STAMP);
  if (!existsSync(stampFile)) return { fresh: false, reason: 'dist/ has not been built (npm run build)' };
  const builtFrom = Number(readFileSync(stampFile, 'utf8').trim());
  if (!Number.isFinite(builtFrom)) return { fresh: false, reason: `${STAMP} is unreadable` };
  if (newest > builtFrom) return { fresh: false, reason: 'a source file changed after the last build (npm run build)' };
  return { fresh: true };
}
