/**
 * bin/build-freshness.mjs decides whether bin/pulse-runbook.js may run dist/ and the worker may load the built
 * workflow bundle: fresh only when no source file was modified after the last build started.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildState, newestSourceMtime } from '../../bin/build-freshness.mjs';

describe('build freshness', () => {
  let root: string;
  const at = (file: string, seconds: number) => utimesSync(path.join(root, file), seconds, seconds);
  const stamp = (ms: number) => writeFileSync(path.join(root, 'dist', '.build-stamp'), `${ms}\n`);

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'build-freshness-'));
    for (const dir of ['src/cli', 'workflows', 'activities', 'dist']) mkdirSync(path.join(root, dir), { recursive: true });
    for (const file of ['src/cli/main.ts', 'workflows/index.ts', 'activities/index.ts', 'package.json']) {
      writeFileSync(path.join(root, file), '');
      at(file, 1_000);
    }
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is stale without a build, fresh after one, stale again when any source file is saved later', () => {
    expect(buildState(root)).toEqual({ fresh: false, reason: expect.stringMatching(/not been built/) });
    stamp(2_000_000);
    expect(buildState(root)).toEqual({ fresh: true });
    at('workflows/index.ts', 3_000); // saved after the build started
    expect(newestSourceMtime(root)).toBe(3_000_000);
    expect(buildState(root)).toEqual({ fresh: false, reason: expect.stringMatching(/changed after the last build/) });
    at('workflows/index.ts', 1_000);
    at('package.json', 2_500); // a dependency or script change counts too
    expect(buildState(root).fresh).toBe(false);
  });

  it('counts a file saved while the build ran (the stamp holds the start, not the end)', () => {
    stamp(2_000_000);
    at('src/cli/main.ts', 2_001);
    expect(buildState(root).fresh).toBe(false);
  });

  it('treats a package without sources (installed from the tarball) as fresh, stamp or not', () => {
    for (const dir of ['src', 'workflows', 'activities']) rmSync(path.join(root, dir), { recursive: true });
    expect(newestSourceMtime(root)).toBe(0);
    expect(buildState(root)).toEqual({ fresh: true });
  });
});
