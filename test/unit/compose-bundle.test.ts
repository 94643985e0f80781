/**
 * scripts/build-workflow-bundle.ts (which the image's build stage runs compiled, through scripts/build.mjs; here
 * through tsx with `--out`, to a temp file) produces a bundle that a
 * worker loads from a file path (`workflowBundle: { codePath }`, what PULSE_RUNBOOKS_WORKFLOW_BUNDLE selects in
 * src/worker.ts): the saved kill-switch history replays against it, and a history the code would not produce
 * does not. It carries the encrypted failure converter, so a worker with a key file (the compose setup) uses it
 * instead of bundling from source at every start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import protoUtils from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { bundleOptions, DEFAULT_BUNDLE_PATH } from '../../scripts/build-workflow-bundle.js';
import { bundleHasEncryptedFailureConverter, ENCRYPTED_FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';

const root = path.resolve('.');
const tsxCli = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const script = path.join(root, 'scripts', 'build-workflow-bundle.ts');
const historyFile = path.join(root, 'test', 'histories', 'kill-switch.json');

describe('scripts/build-workflow-bundle.ts', () => {
  let dir: string;
  let codePath: string;
  let stdout: string;

  beforeAll(async () => {
    quietRuntime();
    dir = await mkdtemp(path.join(os.tmpdir(), 'workflow-bundle-'));
    // A directory that does not exist yet: the script creates it, as in a fresh image layer.
    codePath = path.join(dir, 'dist', 'workflow-bundle.js');
    ({ stdout } = await execa(process.execPath, [tsxCli, script, '--out', codePath], { cwd: root }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the bundle where it is told and says so, leaving no partial file behind', async () => {
    expect(stdout).toContain(`workflow bundle: ${codePath}`);
    expect(existsSync(codePath)).toBe(true);
    expect(await readdir(path.dirname(codePath))).toEqual(['workflow-bundle.js']);
  });

  it('defaults to dist/workflow-bundle.js, where the Dockerfile and PULSE_RUNBOOKS_WORKFLOW_BUNDLE expect it', () => {
    expect(path.relative(root, DEFAULT_BUNDLE_PATH)).toBe(path.join('dist', 'workflow-bundle.js'));
  });

  it('is built with the encrypted failure converter, so an encrypting worker takes it as it is', () => {
    expect(bundleOptions().failureConverterPath).toBe(ENCRYPTED_FAILURE_CONVERTER_PATH);
    expect(existsSync(ENCRYPTED_FAILURE_CONVERTER_PATH)).toBe(true);
    // What src/worker.ts checks before using a prebuilt bundle with a codec.
    expect(bundleHasEncryptedFailureConverter(readFileSync(codePath, 'utf8'))).toBe(true);
  });

  it('replays the saved kill-switch history from the bundle file', async () => {
    const history = protoUtils.historyFromJSON(JSON.parse(readFileSync(historyFile, 'utf8')));
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath } }, history, 'kill-switch')).resolves.toBeUndefined();
  });

  it('holds the real workflow code: a history without the deletes fails to replay', async () => {
    const raw = JSON.parse(readFileSync(historyFile, 'utf8'));
    const events = raw.events.filter(
      (e: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }) =>
        e.activityTaskScheduledEventAttributes?.activityType?.name !== 'deleteConnection',
    );
    const tampered = protoUtils.historyFromJSON({ events: events.map((e: object, i: number) => ({ ...e, eventId: String(i + 1) })) });
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath } }, tampered, 'tampered')).rejects.toThrow(/[Nn]ondeterminism/);
  });

  it('exits 1 with a message on an unknown option, writing nothing', async () => {
    const r = await execa(process.execPath, [tsxCli, script, '--output', path.join(dir, 'other.js')], { cwd: root, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("build-workflow-bundle: Unknown option '--output'");
    expect(existsSync(path.join(dir, 'other.js'))).toBe(false);
  });
});
