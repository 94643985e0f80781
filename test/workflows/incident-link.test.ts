/**
 * Runbook escalation step 3 in the procedures, on the real time-skipping server with the real workflows and
 * scripted activities: a Kill-Switch or Code Rollback started on its own opens exactly one incident record
 * (`incident-for-<workflowId>`) before its first change, that record outlives the run and is classified and
 * routed by the defaults; a retried run and a replayed run open no second one; a plan and a refused rollback open
 * none; and a Kill-Switch that an incident runs as its containment belongs to that incident and opens none.
 *
 * How time is driven here: runs are awaited through a plain client and time is advanced with env.sleep only.
 * Awaiting through the time-skipping client lets the server jump to the next deadline once the run has ended,
 * which for an open incident is the server's 10-year default run timeout; the incident would then time out after
 * its parent closed, which leaks the server's time-skipping lock (every later wait would take real time).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Client, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { notifyIncidentWebhook } from '../../activities/incident-notify.js';
import { KillSwitchInputSchema, type KillSwitchInputRaw } from '../../src/config/kill-switch.js';
import type { CodeRollbackInputRaw } from '../../src/config/code-rollback-input.js';
import type { IncidentRecord } from '../../src/incident/types.js';
import type { CodeRollbackResult } from '../../workflows/code-rollback.js';
import type { KillSwitchResult } from '../../workflows/kill-switch.js';
import { MINUTE, recordWhen, update } from '../support/incident.js';
import { scriptedCodeRollback, scriptedKillSwitch, type ScriptedActivities } from '../../bench/support/incident-link-procedures.js';
import { startTimeSkipping, uniqueId, workflowBundle } from '../../bench/support/time-skipping.js';
import { CODE_ROLLBACK_WORKFLOW, type CodeRollbackWorkflow } from '../../workflows/code-rollback.messages.js';
import { INCIDENT_WORKFLOW, type IncidentWorkflow } from '../../workflows/incident.messages.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';
import { progressQuery } from '../../workflows/procedure.messages.js';

let env: TestWorkflowEnvironment;
let plain: Client;
const workers: Array<{ worker: Worker; running: Promise<void> }> = [];

beforeAll(async () => {
  env = await startTimeSkipping();
  plain = new Client({ connection: env.connection, namespace: env.namespace });
});
afterAll(async () => {
  for (const w of workers) w.worker.shutdown();
  await Promise.all(workers.map((w) => w.running));
  await env?.teardown();
});

/** A worker with the real workflow bundle on its own task queue, kept running for the incidents it hosts. */
async function workerFor(activities: ScriptedActivities, extra: { maxCachedWorkflows?: number } = {}): Promise<string> {
  const taskQueue = uniqueId('incident-link');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { ...activities, notifyIncidentWebhook },
    ...extra,
  });
  workers.push({ worker, running: worker.run() });
  return taskQueue;
}

const PULSE_URL = 'http://pulse.invalid:7655';
const killSwitchInput = (extra: Partial<KillSwitchInputRaw> = {}) => KillSwitchInputSchema.parse({ pulse: { url: PULSE_URL }, ...extra });
const rollbackInput = (extra: Partial<CodeRollbackInputRaw> = {}): CodeRollbackInputRaw => ({
  repoPath: '/srv/pulse',
  pulse: { url: PULSE_URL },
  restart: { kind: 'systemd' },
  ...extra,
});

/** The parent's history as short lines: activities by name, child starts by id, failures by cause. */
async function historyLines(handle: WorkflowHandle): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.flatMap((e) => {
    if (e.activityTaskScheduledEventAttributes) return [`activity ${e.activityTaskScheduledEventAttributes.activityType?.name}`];
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
      return [`start child ${a.workflowType?.name} ${a.workflowId}`];
    }
    if (e.childWorkflowExecutionStartedEventAttributes)
      return [`child started ${e.childWorkflowExecutionStartedEventAttributes.workflowExecution?.workflowId}`];
    if (e.startChildWorkflowExecutionFailedEventAttributes) {
      const { workflowId, cause } = e.startChildWorkflowExecutionFailedEventAttributes;
      return [`child start failed ${workflowId}: ${proto.temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause[cause ?? 0]}`];
    }
    return [];
  });
}

async function closePolicies(handle: WorkflowHandle): Promise<unknown[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.flatMap((e) =>
    e.startChildWorkflowExecutionInitiatedEventAttributes ? [e.startChildWorkflowExecutionInitiatedEventAttributes.parentClosePolicy] : [],
  );
}

async function expectNoWorkflow(workflowId: string): Promise<void> {
  await expect(plain.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

describe('a Kill-Switch started on its own', () => {
  it('opens exactly one incident record before the first delete; the record outlives the run, P2, owned by Pulse Operations', async () => {
    const script = scriptedKillSwitch();
    const taskQueue = await workerFor(script.activities);
    const workflowId = uniqueId('ks');
    const handle = await plain.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [killSwitchInput()],
    });
    await env.sleep(70_000); // the 60 s poller tick
    const r: KillSwitchResult = await handle.result();

    const incidentId = `incident-for-${workflowId}`;
    expect(r.incidentId).toBe(incidentId);
    expect(r.evidence.map((e) => `${e.step} ${e.verdict}`)).toEqual([
      'escalation.3 ok',
      'kill-switch.1 ok',
      'kill-switch.2 ok',
      'kill-switch.2 ok',
      'kill-switch.3 ok',
      'kill-switch.4 ok',
      'kill-switch.5 ok',
      'kill-switch.6 ok',
      'escalation.3 ok',
    ]);
    expect(r.evidence[0]).toMatchObject({
      summary: `Opened incident record ${incidentId} for this kill-switch run.`,
      details: { incidentId, opened: true },
    });
    expect(r.evidence.at(-1)?.summary).toBe(`Told incident record ${incidentId} that this run completed.`);
    // One child start, abandoned when the Kill-Switch closes, before the first Pulse call.
    expect(await historyLines(handle)).toEqual([
      `start child incident ${incidentId}`,
      `child started ${incidentId}`,
      'activity listConnections',
      'activity deleteConnection',
      'activity deleteConnection',
      'activity verifyNoConnections',
      'activity checkTrueNASResources',
    ]);
    expect(await closePolicies(handle)).toEqual([proto.temporal.api.enums.v1.ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON]);

    // The record: running after the Kill-Switch ended, classified and routed by the defaults, the run as its containment.
    const incident = plain.workflow.getHandle(incidentId);
    const described = await incident.describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.type).toBe('incident');
    expect(described.parentExecution?.workflowId).toBe(workflowId);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    const record = await recordWhen(incident, (x) => x.actions[0]?.child !== undefined);
    expect(record).toMatchObject({
      id: incidentId,
      severity: 'P2',
      scope: 'switch-operations',
      owner: 'Pulse Operations',
      escalationOwner: 'Engineering',
      status: 'containing',
      openedBy: 'workflow:killSwitch',
      source: { procedure: 'kill-switch', workflowId, runId: handle.firstExecutionRunId },
    });
    expect(record.title).toBe(`kill-switch executed: ${workflowId}`);
    expect(record.summary).toContain(PULSE_URL);
    expect(record.actions).toEqual([
      expect.objectContaining({ kind: 'procedure', evidence: { workflowId }, child: expect.objectContaining({ status: 'completed' }) }),
    ]);
    expect((await incident.query(progressQuery)).evidence.map((e) => e.step)).toEqual([
      'escalation.1',
      'escalation.3',
      'escalation.2',
      'escalation.3',
    ]);
    expect(script.calls).toEqual(['list', 'delete nas-a', 'delete nas-b', 'verify', 'resources']);
  });

  it('a retried run finds the record of the first run and opens no second one, even when every workflow task is replayed', async () => {
    // The first run dies at kill-switch.1 (one activity attempt), Temporal retries the workflow; the worker keeps
    // no workflow in its cache, so every task replays the run from its history.
    const script = scriptedKillSwitch({ failFirstList: true });
    const taskQueue = await workerFor(script.activities, { maxCachedWorkflows: 0 });
    const workflowId = uniqueId('ks-retry');
    const input = killSwitchInput({ retry: { maximumAttempts: 1, initialIntervalSeconds: 1, maximumIntervalSeconds: 1 } });
    const handle = await plain.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [input],
      retry: { maximumAttempts: 2, initialInterval: '1 second' },
    });
    await env.sleep(80_000); // the retry backoff and the second run's 60 s tick
    const r: KillSwitchResult = await handle.result();

    const incidentId = `incident-for-${workflowId}`;
    expect(r.incidentId).toBe(incidentId);
    expect(r.evidence[0]).toMatchObject({
      step: 'escalation.3',
      verdict: 'ok',
      summary: `The incident record ${incidentId} of this run already exists.`,
      details: { incidentId, opened: false },
    });
    expect(script.calls).toEqual(['list', 'list', 'delete nas-a', 'delete nas-b', 'verify', 'resources']);

    const first = plain.workflow.getHandle(workflowId, handle.firstExecutionRunId);
    // Closed by the failure (the test server reports a retried run as continued-as-new, a real server as failed).
    expect(['FAILED', 'CONTINUED_AS_NEW']).toContain((await first.describe()).status.name);
    expect(await historyLines(first)).toEqual([
      `start child incident ${incidentId}`,
      `child started ${incidentId}`,
      'activity listConnections',
    ]);
    const second = plain.workflow.getHandle(workflowId);
    expect((await historyLines(second)).slice(0, 2)).toEqual([
      `start child incident ${incidentId}`,
      expect.stringMatching(new RegExp(`^child start failed ${incidentId}: .*ALREADY_EXISTS`)),
    ]);

    // The one record is the first run's.
    const record = await recordWhen(plain.workflow.getHandle(incidentId));
    expect(record.source).toEqual({ procedure: 'kill-switch', workflowId, runId: handle.firstExecutionRunId });
    expect(record.actions).toHaveLength(1);
  });

  it('a plan opens none and records which record it would open', async () => {
    const script = scriptedKillSwitch();
    const taskQueue = await workerFor(script.activities);
    const workflowId = uniqueId('ks-plan');
    const r: KillSwitchResult = await (
      await plain.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
        taskQueue,
        workflowId,
        args: [killSwitchInput({ plan: true })],
      })
    ).result();
    const incidentId = `incident-for-${workflowId}`;
    expect(r.incidentId).toBeUndefined();
    expect(r.evidence[0]).toMatchObject({
      step: 'escalation.3',
      verdict: 'planned',
      summary: expect.stringMatching(
        new RegExp(`^Would open incident record ${incidentId} \\(P2, owner Pulse Operations, escalation Engineering, anyone may act\\)`),
      ),
      details: { incidentId, severity: 'P2', owner: 'Pulse Operations' },
    });
    expect(await historyLines(plain.workflow.getHandle(workflowId))).not.toContainEqual(expect.stringMatching(/child/));
    await expectNoWorkflow(incidentId);
  });

  it('carries the roles of its input into the record it opens: from the first minute an unknown actor is refused', async () => {
    const script = scriptedKillSwitch();
    const taskQueue = await workerFor(script.activities);
    const workflowId = uniqueId('ks-roles');
    const roles = { ops: ['olga'], ic: ['ian'] };
    const plan: KillSwitchResult = await (
      await plain.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
        taskQueue,
        workflowId: `${workflowId}-plan`,
        args: [killSwitchInput({ plan: true, incident: { roles } })],
      })
    ).result();
    expect(plan.evidence[0].summary).toContain('roles Pulse Operations: olga; incident-commander: ian');
    expect(plan.evidence[0].details).toMatchObject({ roles: { 'Pulse Operations': ['olga'], 'incident-commander': ['ian'] } });

    const handle = await plain.workflow.start<KillSwitchWorkflow>(KILL_SWITCH_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [killSwitchInput({ incident: { roles } })],
    });
    await env.sleep(70_000);
    await handle.result();
    const incident = plain.workflow.getHandle(`incident-for-${workflowId}`);
    expect((await recordWhen(incident)).roles).toEqual({ 'Pulse Operations': ['olga'], 'incident-commander': ['ian'] });
    const stranger = await update(incident, 'acknowledge', { actor: 'mallory' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stranger).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((stranger as WorkflowUpdateFailedError).cause as { type?: string }).type).toBe('IncidentActorNotAllowed');
    await expect(update(incident, 'acknowledge', { actor: 'olga' })).resolves.toBeDefined();
  });
});

describe('a Code Rollback started on its own', () => {
  it('opens its record once rollback.1 has proved the range, before the revert; owned by Engineering', async () => {
    const script = scriptedCodeRollback();
    const taskQueue = await workerFor(script.activities);
    const workflowId = uniqueId('rollback');
    const handle = await plain.workflow.start<CodeRollbackWorkflow>(CODE_ROLLBACK_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [rollbackInput()],
    });
    const r: CodeRollbackResult = await handle.result();

    const incidentId = `incident-for-${workflowId}`;
    expect(r.incidentId).toBe(incidentId);
    expect(r.evidence.map((e) => `${e.step} ${e.verdict}`)).toEqual([
      'rollback.1 ok',
      'escalation.3 ok',
      'rollback.2 ok',
      'rollback.3 ok',
      'rollback.4 ok',
      'rollback.4 ok',
      'rollback.5 human',
      'escalation.3 ok',
    ]);
    expect(await historyLines(handle)).toEqual([
      'activity validateRollbackRange',
      `start child incident ${incidentId}`,
      `child started ${incidentId}`,
      'activity revertRange',
      'activity buildRepository',
      'activity restartPulse',
      'activity verifyTrueNASRoutesAbsent',
    ]);
    const incident = plain.workflow.getHandle(incidentId);
    expect((await incident.describe()).status.name).toBe('RUNNING');
    const record = await recordWhen(incident, (x) => x.actions[0]?.child !== undefined);
    expect(record).toMatchObject({
      severity: 'P2',
      scope: 'code-rollback',
      owner: 'Engineering',
      escalationOwner: 'Pulse Operations',
      status: 'mitigating',
      openedBy: 'workflow:codeRollback',
      source: { procedure: 'code-rollback', workflowId },
    });
    expect(record.summary).toMatch(/reverting 3 TrueNAS commit\(s\) f9680ef8c7d6\^\.\.687ecd79a1b2 in \/srv\/pulse/);
    // The run told its record how it ended, and what a person still has to do (the frontend check).
    expect(record.actions[0].child).toMatchObject({ status: 'completed', workflowId, leftToDo: [expect.stringMatching(/^rollback\.5: /)] });
  });

  it('a rollback that fails tells its record: the record shows the failure, the step and what is left to do', async () => {
    const script = scriptedCodeRollback({ failBuild: 'go build ./... exited 1: undefined: truenas.Client' });
    const taskQueue = await workerFor(script.activities);
    const workflowId = uniqueId('rollback-fails');
    const handle = await plain.workflow.start<CodeRollbackWorkflow>(CODE_ROLLBACK_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [rollbackInput()],
    });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const incident = plain.workflow.getHandle(`incident-for-${workflowId}`);
    const record = await recordWhen(incident, (r) => r.actions[0]?.child?.status === 'failed');
    expect(record.status).toBe('mitigating'); // a person resolves it; the record no longer hides the failure
    expect(record.actions[0].child).toMatchObject({
      status: 'failed',
      failedStep: 'rollback.3',
      outcome: 'BuildFailed: go build ./... exited 1: undefined: truenas.Client',
      leftToDo: [expect.stringMatching(/^rollback\.3: /), expect.stringMatching(/^rollback\.4: /), expect.stringMatching(/^rollback\.5: /)],
    });
    expect(record.updates.at(-1)).toMatchObject({ update: 'procedureOutcome', by: 'workflow:codeRollback' });
    expect(record.updates.at(-1)?.summary).toMatch(/^code-rollback failed at rollback\.3: BuildFailed: .*left to do: rollback\.3: /);
    const progress = await incident.query(progressQuery);
    expect(progress.evidence.at(-1)).toMatchObject({ step: 'escalation.3', verdict: 'failed' });
  });

  it('a rollback refused at rollback.1 changed nothing and opens none', async () => {
    const script = scriptedCodeRollback({ refuse: { type: 'CommitUnknown', message: 'from deadbeef is not a commit of the repository' } });
    const taskQueue = await workerFor(script.activities);
    const workflowId = uniqueId('rollback-refused');
    const handle = await plain.workflow.start<CodeRollbackWorkflow>(CODE_ROLLBACK_WORKFLOW, {
      taskQueue,
      workflowId,
      args: [rollbackInput({ from: 'deadbeef' })],
    });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(script.calls).toEqual(['validate']);
    expect((await handle.query(progressQuery)).evidence.map((e) => `${e.step} ${e.verdict}`)).toEqual(['rollback.1 failed']);
    await expectNoWorkflow(`incident-for-${workflowId}`);
  });

  it('a plan opens none', async () => {
    const taskQueue = await workerFor(scriptedCodeRollback().activities);
    const workflowId = uniqueId('rollback-plan');
    const r: CodeRollbackResult = await (
      await plain.workflow.start<CodeRollbackWorkflow>(CODE_ROLLBACK_WORKFLOW, {
        taskQueue,
        workflowId,
        args: [rollbackInput({ plan: true })],
      })
    ).result();
    expect(r.evidence.find((e) => e.step === 'escalation.3')).toMatchObject({
      verdict: 'planned',
      details: { incidentId: `incident-for-${workflowId}`, owner: 'Engineering' },
    });
    await expectNoWorkflow(`incident-for-${workflowId}`);
  });
});

describe('a Kill-Switch an incident runs as its containment', () => {
  it('belongs to that incident: it opens no record of its own, names the incident in its result, and the record shows its outcome', async () => {
    const script = scriptedKillSwitch();
    const taskQueue = await workerFor(script.activities);
    const h = await plain.workflow.start<IncidentWorkflow>(INCIDENT_WORKFLOW, {
      taskQueue,
      workflowId: uniqueId('incident'),
      args: [{ title: 'TrueNAS polling floods the NAS', impacts: ['broad-outage'], openedBy: 'alice' }],
    });
    await recordWhen(h);
    const receipt = await update(h, 'startResponse', {
      actor: 'sam',
      phase: 'containment',
      summary: 'Kill-Switch',
      procedure: { name: 'kill-switch', input: { pulse: { url: PULSE_URL } } },
    });
    await env.sleep(2 * MINUTE); // the Kill-Switch's 60 s tick
    const record: IncidentRecord = await recordWhen(h, (r) => r.actions[0]?.child?.status === 'completed');

    const childId = receipt.childWorkflowId!;
    expect(record.actions[0].child).toMatchObject({
      workflowId: childId,
      status: 'completed',
      outcome: expect.stringMatching(/^completed; last step \[kill-switch\.6\] ok/),
    });
    expect(record.actions[0].child!.result).toMatchObject({
      procedure: 'kill-switch',
      incidentId: h.workflowId,
      deleted: ['nas-a', 'nas-b'],
    });
    // The incident records the run; the run adds no escalation.3 of its own and starts no child.
    const child: KillSwitchResult = await plain.workflow.getHandle(childId).result();
    expect(child.evidence.map((e) => e.step)).not.toContain('escalation.3');
    expect(await historyLines(plain.workflow.getHandle(childId))).not.toContainEqual(expect.stringMatching(/child/));
    await expectNoWorkflow(`incident-for-${childId}`);

    await update(h, 'resolve', { actor: 'sam', finalOwner: 'ops', summary: 'contained' });
    expect((await h.result()).incident.status).toBe('resolved');
  });
});
