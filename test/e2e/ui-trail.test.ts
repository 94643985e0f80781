/**
 * The Web UI's view of a run the CLI starts (issue 6), on the real dev server with a real worker and the emulator:
 * the run's static summary "<procedure> on <Pulse URL> by <actor>" and static details, and activity summaries named
 * after runbook steps, as `describe()` and the history give them to the UI. With a codec key file they are
 * encrypted like every other payload: a client without the key sees ciphertext, one with it the text.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli-host.js';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { RUNBOOK_STEPS } from '../../src/runbook/steps.js';
import { procedureSummary } from '../../src/cli/run-procedure.js';
import { pulseWithConnections, temporalAddress, temporalHarness, type PulseFixture, type TemporalHarness } from '../support/e2e.js';

const { EventType } = proto.temporal.api.enums.v1;
const actor = userInfo().username;

function cli(args: string[], env: Record<string, string>) {
  return runCli([...args], {
    env: { PULSE_URL: '', PULSE_TOKEN: '', PULSE_RUNBOOKS_CODEC_KEYS_FILE: '', ...env },
    timeoutMs: 120_000,
  });
}

/** The activity summaries of a history, as raw payloads (what the server stores). */
async function activitySummaries(client: Client, workflowId: string): Promise<Array<{ activity: string; summary?: Payload }>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) => ({
      activity: e.activityTaskScheduledEventAttributes!.activityType!.name!,
      summary: (e.userMetadata?.summary ?? undefined) as Payload | undefined,
    }));
}

const text = (p?: Payload) => (p ? defaultPayloadConverter.fromPayload<string>(p) : undefined);

describe('pulse-runbook kill-switch in the Web UI', () => {
  let fx: PulseFixture;
  let dir: string;
  beforeAll(async () => {
    fx = await pulseWithConnections(1);
    dir = mkdtempSync(path.join(tmpdir(), 'ui-trail-'));
  });
  afterAll(async () => {
    await fx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `kill-switch --plan` through the CLI; returns the run's id and its current details once it ended. */
  async function runPlan(temporal: TemporalHarness, extraArgs: string[] = []): Promise<{ workflowId: string; details?: string }> {
    return temporal.withWorker(async () => {
      const r = await cli(['kill-switch', '--plan', '--pulse-url', fx.emulator.url, '--token-env', fx.tokenEnv, ...extraArgs], {
        TEMPORAL_ADDRESS: temporalAddress(),
        TEMPORAL_TASK_QUEUE: temporal.taskQueue,
        [fx.tokenEnv]: fx.token,
      });
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const workflowId = /: workflow (\S+)/.exec(r.stdout)?.[1];
      expect(workflowId).toMatch(/^kill-switch-plan-/);
      // As the UI asks for them: a query, answered by the worker (so while it still runs).
      const metadata = await temporal.client.workflow
        .getHandle(workflowId!)
        .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      return { workflowId: workflowId!, details: metadata.currentDetails };
    });
  }

  it('starts the run with a one-line summary and static details, and each activity names its runbook step', async () => {
    const temporal = await temporalHarness();
    try {
      const { workflowId, details } = await runPlan(temporal);
      const described = await temporal.client.workflow.getHandle(workflowId).describe();
      expect(await described.staticSummary()).toBe(`kill-switch plan on ${fx.emulator.url} by ${actor}`);
      expect(await described.staticDetails()).toBe(
        `Target: ${fx.emulator.url}\n\nStarted with \`pulse-runbook kill-switch\` by ${actor} as a plan: nothing is changed.`,
      );

      const summaries = (await activitySummaries(temporal.client, workflowId)).map((a) => ({
        activity: a.activity,
        summary: text(a.summary),
      }));
      const step = (id: keyof typeof RUNBOOK_STEPS) => `${id}: ${RUNBOOK_STEPS[id].title}`;
      expect(summaries).toEqual([
        { activity: 'listConnections', summary: step('kill-switch.1') },
        { activity: 'deleteConnection', summary: step('kill-switch.2') },
        { activity: 'verifyNoConnections', summary: step('kill-switch.4') },
        { activity: 'checkTrueNASResources', summary: step('kill-switch.5') },
      ]);
      // The workflow's current details after the plan ended.
      expect(details).toMatch(/^kill-switch \(plan: nothing is changed\) completed: \d+ evidence record\(s\)\.$/);
    } finally {
      await temporal.close();
    }
  });

  it('with a codec key file the summaries are encrypted: ciphertext without the key, the text with it', async () => {
    const keysFile = path.join(dir, 'codec-keys.json');
    const made = await cli(['codec', 'keygen', '--out', keysFile, '--key-id', 'trail-1'], {});
    expect(made.exitCode).toBe(0);
    const { codec } = loadCodec(keysFile);
    const temporal = await temporalHarness({ codec });
    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      const { workflowId } = await runPlan(temporal, ['--codec-keys-file', keysFile]);
      const raw = new Client({ connection });
      const withoutKey = await raw.workflow.getHandle(workflowId).describe();
      const rawSummary = withoutKey.raw.executionConfig?.userMetadata?.summary as Payload | undefined;
      expect(Buffer.from(rawSummary!.metadata!.encoding!).toString()).toBe('binary/encrypted');
      expect(Buffer.from(rawSummary!.metadata!['encryption-key-id']!).toString()).toBe('trail-1');
      expect(Buffer.from(rawSummary!.data!).toString('latin1')).not.toContain(fx.emulator.url);
      for (const a of await activitySummaries(raw, workflowId)) {
        expect(Buffer.from(a.summary!.metadata!.encoding!).toString()).toBe('binary/encrypted');
        expect(Buffer.from(a.summary!.data!).toString('latin1')).not.toContain('kill-switch');
      }
      // The client with the key (as the UI with the codec endpoint) reads them.
      const withKey = await temporal.client.workflow.getHandle(workflowId).describe();
      expect(await withKey.staticSummary()).toBe(`kill-switch plan on ${fx.emulator.url} by ${actor}`);
      const [first] = await activitySummaries(temporal.client, workflowId);
      const [decoded] = await codec.decode([first.summary!]);
      expect(text(decoded)).toBe(`kill-switch.1: ${RUNBOOK_STEPS['kill-switch.1'].title}`);
    } finally {
      await connection.close();
      await temporal.close();
    }
  });
});

describe('the static summary', () => {
  it('is one line, says plan runs are plans, and never carries the credentials of a URL', () => {
    expect(procedureSummary('kill-switch', false, 'http://pulse:7655', 'alice')).toBe('kill-switch on http://pulse:7655 by alice');
    expect(procedureSummary('code-rollback', true, 'https://ops:s3cret@pulse.example/', 'bob')).toBe(
      'code-rollback plan on https://pulse.example/ by bob',
    );
    expect(procedureSummary('data-cleanup', false, '/var/lib/pulse\n(on the worker)', 'carol')).toBe(
      'data-cleanup on /var/lib/pulse (on the worker) by carol',
    );
  });
});
