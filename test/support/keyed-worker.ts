/**
 * A real `pulse-runbook worker` process with a payload key file of its own ("key-a"), and a second key file
 * ("key-b") that does not match it: for tests of what a CLI with the wrong key, or none, is told.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createKeyFile } from '../../src/temporal/codec-key-file.js';
import { temporalAddress, uniqueId } from './e2e.js';
import { spawnLong, type LongProcess } from '../../bench/support/long-process.js';

export interface KeyedWorker {
  dir: string;
  keysA: string;
  keysB: string;
  taskQueue: string;
  worker: LongProcess;
  stop(): Promise<void>;
}

export async function startKeyedWorker(name: string, env: Record<string, string | undefined>): Promise<KeyedWorker> {
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const keysA = path.join(dir, 'a.json');
  const keysB = path.join(dir, 'b.json');
  createKeyFile(keysA, { keyId: 'key-a' });
  createKeyFile(keysB, { keyId: 'key-b' });
  const taskQueue = uniqueId(name);
  const worker = spawnLong(process.execPath, [path.resolve('bin/pulse-runbook.js'), 'worker'], {
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    PULSE_RUNBOOKS_CODEC_KEYS_FILE: keysA,
    ...env,
  });
  await worker.waitFor(/Payload encryption on: key file .*current key id "key-a"/);
  return {
    dir,
    keysA,
    keysB,
    taskQueue,
    worker,
    async stop() {
      await worker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
