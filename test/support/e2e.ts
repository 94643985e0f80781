/**
 * E2E harness: the Temporal dev server started by global-setup, a real worker with the real activities, the
 * emulator as a real process, and a fake TrueNAS with connections pointing at it.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { cachedWorkflowBundle } from '../../bench/support/bundle-cache.js';
import * as activities from '../../activities/index.js';
import { spawnEmulator, type EmulatorProcess, type SpawnOptions } from '../../src/emulator/process.js';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { PulseClient } from '../../src/pulse/client.js';
import { uniqueId, workflowBundle } from '../../bench/support/time-skipping.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';
import { encryptedDataConverter, ENCRYPTED_FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter.js';
import { workflowsPath } from '../../src/temporal/workflows-path.js';

export { uniqueId };

export function temporalAddress(): string {
  const address = process.env.PULSE_RUNBOOKS_TEST_TEMPORAL;
  if (!address) throw new Error('PULSE_RUNBOOKS_TEST_TEMPORAL is not set: run e2e tests through jest (global-setup starts the dev server)');
  return address;
}

export interface TemporalHarness {
  client: Client;
  /** The data converter the client and the worker share: the encrypted one when a codec was given. */
  dataConverter?: DataConverter;
  taskQueue: string;
  /** Runs fn with a worker polling taskQueue; the worker stops afterwards. */
  withWorker<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The workflows bundled with the encrypted failure converter, as a codec worker bundles them (once per source tree). */
function encryptedWorkflowBundle(): Promise<{ code: string }> {
  return cachedWorkflowBundle({ workflowsPath: workflowsPath(), failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH });
}

export interface TemporalHarnessOptions {
  /** Encrypt history: the client and the worker use the encrypted data converter with this codec. */
  codec?: PayloadCodec;
}

export async function temporalHarness(opts: TemporalHarnessOptions = {}): Promise<TemporalHarness> {
  quietRuntime();
  const address = temporalAddress();
  const dataConverter = opts.codec ? encryptedDataConverter(opts.codec) : undefined;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, ...(dataConverter ? { dataConverter } : {}) });
  const native = await NativeConnection.connect({ address });
  const taskQueue = uniqueId('e2e');
  const bundle = await (opts.codec ? encryptedWorkflowBundle() : workflowBundle());
  return {
    client,
    dataConverter,
    taskQueue,
    async withWorker(fn) {
      const worker = await Worker.create({
        connection: native,
        taskQueue,
        workflowBundle: bundle,
        activities,
        ...(dataConverter ? { dataConverter } : {}),
      });
      return worker.runUntil(fn);
    },
    async close() {
      await connection.close();
      await native.close();
    },
  };
}

export interface PulseFixture {
  emulator: EmulatorProcess;
  truenas: FakeTrueNAS;
  token: string;
  /** The env var the activities read the token from (by reference). */
  tokenEnv: string;
  ids: string[];
  pulse: PulseClient;
  stop(): Promise<void>;
}

/** An emulator (real process) with auth on and `connections` connections to a fake TrueNAS, polled once. */
export async function pulseWithConnections(connections: number, opts: SpawnOptions = {}): Promise<PulseFixture> {
  const token = randomBytes(32).toString('hex');
  const tokenEnv = `PULSE_E2E_TOKEN_${randomBytes(4).toString('hex').toUpperCase()}`;
  process.env[tokenEnv] = token;
  const truenasKey = randomBytes(16).toString('hex');
  const truenas = await startFakeTrueNAS({ apiKey: truenasKey });
  const emulator = await spawnEmulator({
    enableTrueNAS: 'true',
    tickSeconds: 1,
    staleSeconds: 2,
    tokens: [{ token, scopes: ['*'] }],
    ...opts,
  });
  const pulse = await PulseClient.create({ url: emulator.url, token: { env: tokenEnv }, timeoutMs: 5000 });
  const ids: string[] = [];
  for (let i = 0; i < connections; i++) {
    const added = await pulse.addConnection(truenas.connection({ name: `nas-${i + 1}` }));
    ids.push(added.connection.id);
  }
  await emulator.control.tick();
  return {
    emulator,
    truenas,
    token,
    tokenEnv,
    ids,
    pulse,
    async stop() {
      await pulse.close();
      await emulator.stop();
      await truenas.close();
      delete process.env[tokenEnv];
    },
  };
}
