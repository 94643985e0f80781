/**
 * Builds the workflow bundle ahead of time, so a production worker starts without webpack and without the
 * TypeScript sources of the workflows being compiled on every start (the Dockerfile runs this at image build).
 * The worker loads it when PULSE_RUNBOOKS_WORKFLOW_BUNDLE names the file (src/worker.ts).
 *
 *   npx tsx scripts/build-workflow-bundle.ts                 # writes dist/workflow-bundle.js
 *   npx tsx scripts/build-workflow-bundle.ts --out /tmp/b.js
 *
 * The bundle must be built with the same options the worker would use when bundling itself: today only
 * workflowsPath. When a payload converter or workflow interceptors are added (a codec, issue 6), add them to
 * bundleOptions() here too, or the bundled workflows would decode payloads differently from the worker.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { workflowsPath } from '../src/temporal/workflows-path.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the Dockerfile and the worker expect the bundle unless told otherwise. */
export const DEFAULT_BUNDLE_PATH = path.join(repoRoot, 'dist', 'workflow-bundle.js');

export interface BuiltBundle {
  path: string;
  bytes: number;
  durationMs: number;
}

/** The options shared by this script and anything else that bundles the workflows for production. */
export function bundleOptions(): BundleOptions {
  return {
    workflowsPath: workflowsPath(),
    // webpack's progress lines are noise in a docker build log; errors still surface as a thrown error.
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
  };
}

/**
 * Bundles the workflows and writes the bundle to `outPath` (directories are created). The file is written
 * to a temporary name and renamed, so a worker never loads a half-written bundle.
 */
export async function buildWorkflowBundle(outPath: string = DEFAULT_BUNDLE_PATH): Promise<BuiltBundle> {
  const target = path.resolve(outPath);
  const started = Date.now();
  const { code } = await bundleWorkflowCode(bundleOptions());
  if (!code) throw new Error('bundleWorkflowCode returned an empty bundle');
  await mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  await writeFile(partial, code, 'utf8');
  await rename(partial, target);
  return { path: target, bytes: Buffer.byteLength(code), durationMs: Date.now() - started };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string', short: 'o' } }, strict: true });
  const built = await buildWorkflowBundle(values.out ?? DEFAULT_BUNDLE_PATH);
  process.stdout.write(
    `workflow bundle: ${built.path} (${Math.round(built.bytes / 1024)} KiB, ${(built.durationMs / 1000).toFixed(1)} s)\n`,
  );
}

// Run only when executed directly (tsx scripts/build-workflow-bundle.ts), not when a test imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`build-workflow-bundle: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
