/**
 * src/host/node-entry.ts: a child is started from its compiled twin only when dist/ is fresh and the twin is newer
 * than its source; otherwise through tsx, so an edited entry never runs stale.
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildState } from '../../bin/build-freshness.mjs';
import { PACKAGE_ROOT } from '../../src/host/package-root.js';
import { compiledTwin, nodeArgsFor } from '../../src/host/node-entry.js';
import { EMULATOR_MAIN, emulatorNodeArgs } from '../../src/emulator/process.js';

const fresh = buildState(PACKAGE_ROOT).fresh;
const source = path.join(PACKAGE_ROOT, 'test-artifacts', 'node-entry-test', 'entry.ts');
const twin = compiledTwin(source);

beforeAll(() => {
  mkdirSync(path.dirname(source), { recursive: true });
  mkdirSync(path.dirname(twin), { recursive: true });
  writeFileSync(source, 'export {};\n');
  writeFileSync(twin, 'export {};\n');
});
afterAll(() => {
  rmSync(path.dirname(source), { recursive: true, force: true });
  rmSync(path.join(PACKAGE_ROOT, 'dist', 'test-artifacts'), { recursive: true, force: true });
});

it('maps a source to its twin in dist/', () => {
  expect(compiledTwin(path.join(PACKAGE_ROOT, 'src', 'emulator', 'main.ts'))).toBe(
    path.join(PACKAGE_ROOT, 'dist', 'src', 'emulator', 'main.js'),
  );
});

it('runs a compiled entry as it is', async () => {
  expect(await nodeArgsFor('/somewhere/dist/src/emulator/main.js')).toEqual(['/somewhere/dist/src/emulator/main.js']);
});

it('runs a source with no twin through tsx', async () => {
  const lone = path.join(PACKAGE_ROOT, 'test-artifacts', 'node-entry-test', 'no-twin.ts');
  expect(await nodeArgsFor(lone)).toEqual(['--import', 'tsx', lone]);
});

it('runs a source edited after its twin was compiled through tsx, even when the build is otherwise fresh', async () => {
  utimesSync(twin, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  utimesSync(source, new Date(), new Date());
  expect(await nodeArgsFor(source)).toEqual(['--import', 'tsx', source]);
});

it(`runs a twin newer than its source compiled exactly when the build is fresh (it is ${fresh ? '' : 'not '}now)`, async () => {
  utimesSync(source, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  utimesSync(twin, new Date(), new Date());
  expect(await nodeArgsFor(source)).toEqual(fresh ? [twin] : ['--import', 'tsx', source]);
  expect(await emulatorNodeArgs()).toEqual(fresh ? [compiledTwin(EMULATOR_MAIN)] : ['--import', 'tsx', EMULATOR_MAIN]);
});
