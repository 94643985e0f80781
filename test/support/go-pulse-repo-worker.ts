/**
 * A worker in its own process, the real `pulse-runbook worker` program, so a test can kill it the way a host
 * crash would (SIGKILL: no cleanup, no report of the activity under way) and start another one. Used by the
 * rollback and cleanup kill tests.
 *
 * The workflow bundle is built once in the test process and handed over by path
 * (PULSE_RUNBOOKS_WORKFLOW_BUNDLE), so a new worker starts in about a second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { workflowBundle } from '../../bench/support/time-skipping.js';

const BIN = resolve('bin/pulse-runbook.js');

let bundlePath: Promise<{ dir: string; path: string }> | undefined;

async function bundleFile(): Promise<string> {
  bundlePath ??= (async () => {
    const { code } = await workflowBundle();
    const dir = await fs.mkdtemp(join(tmpdir(), 'go-pulse-worker-bundle-'));
    const path = join(dir, 'workflow-bundle.js');
    await fs.writeFile(path, code);
    return { dir, path };
  })();
  return (await bundlePath).path;
}

/** Removes the bundle file written by this test file. */
export async function removeWorkerBundle(): Promise<void> {
  if (!bundlePath) return;
  const { dir } = await bundlePath;
  bundlePath = undefined;
  await fs.rm(dir, { recursive: true, force: true });
}

export interface WorkerProcess {
  pid: number;
  /** SIGKILL, then wait until the process is gone. */
  kill(): Promise<void>;
  /** Everything the worker wrote so far. */
  output(): string;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Starts `pulse-runbook worker` on the task queue and resolves once it polls. */
export async function startWorkerProcess(address: string, taskQueue: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--temporal-address', address, '--task-queue', taskQueue], {
    env: { ...process.env, PULSE_RUNBOOKS_WORKFLOW_BUNDLE: await bundleFile(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not start within 30 s:\n${output}`)), 30_000);
    const check = () => {
      if (output.includes('Worker on ')) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited before it started (code ${code}, signal ${signal}):\n${output}`));
    });
  });
  return {
    pid: child.pid!,
    output: () => output,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}
