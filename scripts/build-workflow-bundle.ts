/**
 * Builds the workflow bundle ahead of time, so a production worker starts without webpack and without the
 * TypeScript sources of the workflows being compiled on every start (scripts/build.mjs runs it, compiled, and so
 * does the Dockerfile's build stage).
 * The worker loads it when PULSE_RUNBOOKS_WORKFLOW_BUNDLE names the file (src/worker.ts).
 *
 *   npx tsx scripts/build-workflow-bundle.ts                 # writes dist/workflow-bundle.js
 *   npx tsx scripts/build-workflow-bundle.ts --out /tmp/b.js
 *
 * The bundle must be built with the same options the worker would use when bundling itself: workflowsPath and
 * the failure converter of the encrypted data converter (src/temporal/data-converter.ts). The workflow sandbox
 * writes the workflow's own failures with the converter bundled into it, so a bundle without it would put their
 * messages in history in plain text; a worker with a key file refuses such a bundle and bundles from source at
 * every start instead (src/worker.ts workflowCode()). A worker without a key file runs this bundle as well: its
 * workflow failures then carry the message in `encodedAttributes` (a plain JSON payload, "Encoded failure" in the
 * message field), which every SDK client and the Web UI decode. Payload codecs are not part of the bundle: they
 * run in the worker, outside the sandbox.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { ENCRYPTED_FAILURE_CONVERTER_PATH } from '../src/temporal/data-converter.js';
import { workflowsPath } from '../src/temporal/workflows-path.js';
import { PACKAGE_ROOT } from '../src/host/package-root.js';

/** Where the Dockerfile and the worker expect the bundle unless told otherwise. */
export const DEFAULT_BUNDLE_PATH = path.join(PACKAGE_ROOT, 'dist', 'workflow-bundle.js');

export interface BuiltBundle {
  path: string;
  bytes: number;
  durationMs: number;
}

/** The options shared by this script and anything else that bundles the workflows for production. */
export function bundleOptions(): BundleOptions {
  return {
    workflowsPath: workflowsPath(),
    // What Worker.create passes to the bundler when it has the encrypted data converter: the same file, so a
    // prebuilt bundle serves an encrypting worker.
    failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH,
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
