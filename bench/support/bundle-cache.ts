/**
 * The workflows bundled by webpack once per source tree, not once per test file. Bundling costs 4–5 s of CPU, and every
 * test file starting a worker paid it again (jest gives each file its own module registry), about 40 times a run.
 * The bundle is kept on disk under node_modules/.cache, named by a hash of everything it can be built from: the SDK's
 * version, the bundle options and the contents of every source file (workflows/, src/, activities/, test/support/, bench/support/).
 * A changed file is a new name, so a stale bundle is never used. Written with a rename, so parallel test workers that
 * build the same bundle at once never read half a file.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { PACKAGE_ROOT } from '../../src/host/package-root.js';

const SOURCE_DIRS = ['workflows', 'src', 'activities', 'test/support', 'bench/support'];
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;

function sourceHash(options: Pick<BundleOptions, 'workflowsPath' | 'failureConverterPath'>): string {
  const root = PACKAGE_ROOT;
  const hash = createHash('sha256');
  const sdk = JSON.parse(readFileSync(path.join(root, 'node_modules/@temporalio/worker/package.json'), 'utf8')) as { version: string };
  hash.update(`${sdk.version}\0${JSON.stringify(options)}\0`);
  for (const dir of SOURCE_DIRS) {
    const files = readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(ts|js|cjs|mjs|json)$/.test(f))
      .sort();
    for (const f of files) hash.update(`${dir}/${f}\0`).update(readFileSync(path.join(root, dir, f)));
  }
  return hash.digest('hex').slice(0, 32);
}

const inProcess = new Map<string, Promise<{ code: string }>>();

/** bundleWorkflowCode, from the disk cache when this exact tree was bundled before. */
export function cachedWorkflowBundle(options: Pick<BundleOptions, 'workflowsPath' | 'failureConverterPath'>): Promise<{ code: string }> {
  const key = sourceHash(options);
  let bundle = inProcess.get(key);
  if (!bundle) {
    bundle = (async () => {
      const dir = path.join(PACKAGE_ROOT, 'node_modules/.cache/pulse-runbooks/workflow-bundles');
      const file = path.join(dir, `${key}.js`);
      try {
        return { code: readFileSync(file, 'utf8') };
      } catch {
        const built = await bundleWorkflowCode({ ...options, logger: quiet });
        mkdirSync(dir, { recursive: true });
        const partial = `${file}.${process.pid}.partial`;
        writeFileSync(partial, built.code);
        renameSync(partial, file);
        return { code: built.code };
      }
    })();
    inProcess.set(key, bundle);
  }
  return bundle;
}
