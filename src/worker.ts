/**
 * Builds the worker: the workflow bundle (PULSE_RUNBOOKS_WORKFLOW_BUNDLE, else the build's dist/workflow-bundle.js
 * when it is up to date with the sources, else bundled from the sources at start) and every activity. One task queue serves all procedures. With a payload codec (issue 6) the worker encrypts
 * everything it writes to history, through the same data converter as the client.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../activities/index.js';
import type { TemporalSettings } from './config/temporal.js';
import { workflowsPath } from './temporal/workflows-path.js';
import { bundleHasEncryptedFailureConverter, encryptedDataConverter } from './temporal/data-converter.js';
import type { CodecKeyRing } from './config/codec.js';
import { workerIdentity } from './temporal/codec-advert.js';
import { DecodeGuardCodec } from './temporal/decode-guard.js';
import { PACKAGE_ROOT } from './host/package-root.js';
import { isBuildFresh } from './host/build-freshness.js';

export interface WorkerHandle {
  worker: Worker;
  connection: NativeConnection;
}

let runtimeInstalled = false;
/** Keeps the SDK's own logging at WARN (PULSE_RUNBOOKS_LOG_LEVEL to change), so progress stays readable. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.PULSE_RUNBOOKS_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed by the embedding program (a test harness): keep its choice.
  }
}

export interface WorkerCodecOptions {
  /** Encrypts payloads (src/temporal/codec.ts); omitted means history is written in plain text, as before. */
  codec?: PayloadCodec;
  /** The codec's keys: advertised (check values only) in the worker's identity so a CLI can check them first. */
  ring?: CodecKeyRing;
  /** Where a warning goes (a prebuilt bundle that cannot encrypt failures); defaults to stderr. */
  warn?: (line: string) => void;
}

export async function createWorker(
  settings: TemporalSettings & { address: string },
  extra: Partial<WorkerOptions> = {},
  opts: WorkerCodecOptions = {},
): Promise<WorkerHandle> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    ...(extra.workflowsPath || extra.workflowBundle ? {} : await workflowCode(opts)),
    // A payload this worker cannot decrypt fails its run with PayloadUndecodable instead of a task retried forever.
    dataConverter: opts.codec
      ? encryptedDataConverter(new DecodeGuardCodec(opts.codec))
      : { payloadCodecs: [new DecodeGuardCodec(undefined)] },
    identity: workerIdentity(opts.ring),
    activities,
    ...cacheSettings(),
    ...extra,
  });
  return { worker, connection };
}

/**
 * PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS: how many runs the worker keeps in memory between their tasks. The SDK's
 * default grows with the heap limit (thousands on a large host), and a cached canary rollout costs several MiB, so a
 * worker with hundreds of long-running rollouts can outgrow its memory; a smaller cache trades memory for replaying
 * an evicted run's history at its next task (npm run bench measures both, deploy/README.md has the figures).
 */
export function cacheSettings(env: NodeJS.ProcessEnv = process.env): Pick<WorkerOptions, 'maxCachedWorkflows'> {
  const raw = env.PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS;
  if (raw === undefined || raw.trim() === '') return {};
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS must be a whole number of workflow runs (0 turns the cache off), got "${raw}"`);
  }
  return { maxCachedWorkflows: n };
}

/**
 * The build's workflow bundle (scripts/build.mjs), when dist/ is up to date with the sources: webpack at every
 * worker start costs seconds (more on a loaded machine), and ensure-deps.sh rebuilds it when a source changes. After
 * an edit without a rebuild the sources are bundled, so a worker never runs workflows older than its activities.
 */
async function builtBundle(): Promise<string | undefined> {
  const bundle = path.join(PACKAGE_ROOT, 'dist', 'workflow-bundle.js');
  if (!existsSync(bundle)) return undefined;
  return (await isBuildFresh()) ? bundle : undefined;
}

/**
 * The prebuilt bundle (PULSE_RUNBOOKS_WORKFLOW_BUNDLE, else the build's) when it fits, else the sources. With a codec the bundle must
 * hold the encrypted failure converter: the workflow sandbox writes the workflow's own failures, and a bundle
 * without it would put their messages in history in plain text. Bundling from source (a few seconds at start)
 * gets it in, because Worker.create passes the data converter's failureConverterPath to the bundler.
 */
async function workflowCode(opts: WorkerCodecOptions): Promise<Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>> {
  const bundlePath = process.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE || (await builtBundle());
  if (!bundlePath) return { workflowsPath: workflowsPath() };
  if (opts.codec && !bundleHasEncryptedFailureConverter(readFileSync(bundlePath, 'utf8'))) {
    (opts.warn ?? ((line: string) => process.stderr.write(`${line}\n`)))(
      `warning: the workflow bundle ${bundlePath} was built without the encrypted failure converter; ` +
        'bundling the workflows from source instead so failure messages are encrypted too (rebuild the bundle with failureConverterPath to skip this)',
    );
    return { workflowsPath: workflowsPath() };
  }
  return { workflowBundle: { codePath: bundlePath } };
}
