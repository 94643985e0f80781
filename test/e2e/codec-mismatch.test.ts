/**
 * Issue 13, defect 4: a CLI and a worker with different payload keys. Before: a CLI without a key file started a
 * run the worker completed and then printed "Unknown encoding: binary/encrypted" (exit 1); a CLI with another key
 * started a run whose workflow task failed forever, and hung silently. Now the CLI checks the worker's advertised
 * keys before it starts anything (exit 2, the fix named), and a run a worker cannot decrypt anyway (started by
 * some other client) fails at once with PayloadUndecodable, which `follow` reports as such.
 *
 * The worker is the real `pulse-runbook worker` process; the CLI its real entry point (test/support/cli-host.ts).
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { runCli } from '../support/cli-host.js';
import { KillSwitchInputSchema } from '../../src/config/kill-switch.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { createWorker } from '../../src/worker.js';
import { readCloseEvent } from '../../src/cli/close-event.js';
import { pulseWithConnections, temporalAddress, uniqueId, type PulseFixture } from '../support/e2e.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';
import { startKeyedWorker, type KeyedWorker } from '../support/keyed-worker.js';

let keysA: string;
let keysB: string;
let fx: PulseFixture;
let taskQueue: string;
let keyed: KeyedWorker;

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(args, {
    timeoutMs: 90_000,
    env: {
      PULSE_URL: '',
      PULSE_TOKEN: '',
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: '',
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      ...env,
    },
  });
}

beforeAll(async () => {
  fx = await pulseWithConnections(1);
  keyed = await startKeyedWorker('codec-mismatch', { [fx.tokenEnv]: fx.token });
  ({ keysA, keysB, taskQueue } = keyed);
});
afterAll(async () => {
  await keyed?.stop();
  await fx?.stop();
});

describe('a CLI whose key does not match the worker', () => {
  it("without a key file: refused before anything starts (exit 2), naming the worker's key and the flag", async () => {
    const r = await cli(['kill-switch', '--pulse-url', fx.emulator.url, '--token-env', fx.tokenEnv, '--tick-seconds', '1']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`payload encryption does not match the worker on task queue "${taskQueue}"`);
    expect(r.stderr).toContain('the worker encrypts history with key "key-a", and this command has no key file');
    expect(r.stderr).toContain('--codec-keys-file or PULSE_RUNBOOKS_CODEC_KEYS_FILE');
    expect(r.stderr).toContain('Nothing was started.');
    expect((await fx.pulse.listConnections()).length).toBe(1);
  });

  it("with another key: refused before anything starts (exit 2); with the worker's key: runs", async () => {
    const other = await cli([
      'kill-switch',
      '--pulse-url',
      fx.emulator.url,
      '--token-env',
      fx.tokenEnv,
      '--plan',
      '--codec-keys-file',
      keysB,
    ]);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain('this command encrypts with key "key-b"');
    expect(other.stderr).toContain('which the worker does not hold (it has key-a)');
    const same = await cli([
      'kill-switch',
      '--pulse-url',
      fx.emulator.url,
      '--token-env',
      fx.tokenEnv,
      '--plan',
      '--tick-seconds',
      '1',
      '--codec-keys-file',
      keysA,
    ]);
    expect(same.stderr).toBe('');
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toContain('Plan complete, nothing was changed');
  });
});

describe('a run the worker cannot decrypt (started by a client that skipped the check)', () => {
  it('fails at once with PayloadUndecodable instead of hanging, and follow says why (exit 1)', async () => {
    const codecB = loadCodec(keysB);
    const connection = await Connection.connect({ address: temporalAddress() });
    const client = new Client({ connection, dataConverter: codecB.dataConverter });
    const workflowId = uniqueId('undecodable');
    const input = KillSwitchInputSchema.parse({ pulse: { url: fx.emulator.url, token: { env: fx.tokenEnv } }, plan: true, tickSeconds: 1 });
    const started = Date.now();
    const handle = await client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, { taskQueue, workflowId, args: [input] });
    let status = 'RUNNING';
    while (status === 'RUNNING' && Date.now() - started < 30_000) {
      status = (await handle.describe()).status.name;
      if (status === 'RUNNING') await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe('FAILED');
    const close = await readCloseEvent(client, { workflowId });
    expect(close).toMatchObject({ status: 'FAILED', failureType: 'PayloadUndecodable', keyId: 'key-a' });
    await connection.close();
    expect((await fx.pulse.listConnections()).length).toBe(1);

    const followed = await cli(['follow', workflowId, '--codec-keys-file', keysB]);
    expect(followed.exitCode).toBe(1);
    expect(followed.stderr).toContain('the run failed (failure type PayloadUndecodable)');
    expect(followed.stderr).toContain('it is encrypted with key "key-a", which this command cannot use');
    const withA = await cli(['follow', workflowId, '--codec-keys-file', keysA]);
    expect(withA.exitCode).toBe(1);
    expect(withA.stderr).toContain("PayloadUndecodable: The worker cannot decrypt this kill-switch run's input");
    expect(withA.stderr).toContain('"key-b"');
  });

  it('a worker without a key file fails an encrypted run the same way', async () => {
    const queue = uniqueId('codec-nokey');
    const { worker: plainWorker, connection: native } = await createWorker({
      address: temporalAddress(),
      namespace: 'default',
      taskQueue: queue,
    });
    const codecA = loadCodec(keysA);
    const connection = await Connection.connect({ address: temporalAddress() });
    const client = new Client({ connection, dataConverter: codecA.dataConverter });
    try {
      const workflowId = uniqueId('undecodable-nokey');
      const input = KillSwitchInputSchema.parse({ pulse: { url: fx.emulator.url }, plan: true, tickSeconds: 1 });
      const handle = await client.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, { taskQueue: queue, workflowId, args: [input] });
      await plainWorker.runUntil(async () => {
        await expect(handle.result()).rejects.toThrow();
      });
      const close = await readCloseEvent(client, { workflowId });
      expect(close.failureType).toBe('PayloadUndecodable');
      await expect(client.workflow.getHandle(`kill-switch@never-${workflowId}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    } finally {
      await connection.close();
      await native.close();
    }
  });
});
