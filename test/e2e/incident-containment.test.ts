/**
 * An incident whose containment runs the REAL Disable workflow as a child, end to end: the Temporal dev server,
 * a real worker with the real activities, and the Pulse emulator run as a service that reads
 * PULSE_ENABLE_TRUENAS from a real env file and is restarted only by the restart command the child runs
 * (test/support/pulse-service.ts). The incident record must show the child's id, status and outcome; the child
 * belongs to the incident (memo), so it opens no incident of its own; and the runbook's P1 timer counts the
 * containment as started.
 */
import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { INCIDENT_MEMO_KEY, INCIDENT_WORKFLOW, type IncidentWorkflow } from '../../workflows/incident.messages.js';
import { DisableInputSchema } from '../../src/config/disable.js';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { renderIncidentMarkdown } from '../../src/incident/report.js';
import type { IncidentRecord } from '../../src/incident/types.js';
import { PulseDisabledError } from '../../src/pulse/errors.js';
import type { DisableResult } from '../../workflows/disable.js';
import type { IncidentResult } from '../../workflows/incident.js';
import { recordWhen, update } from '../support/incident.js';
import {
  enableDisableTemporal,
  flagLines,
  startPulseService,
  type EnableDisableTemporal,
  type PulseService,
} from '../support/pulse-service.js';
import { uniqueId } from '../support/e2e.js';

let temporal: EnableDisableTemporal;
let svc: PulseService | undefined;
let fake: FakeTrueNAS | undefined;
let keyEnv: string;

beforeAll(async () => {
  temporal = await enableDisableTemporal();
});
afterAll(async () => {
  await temporal?.close();
});
beforeEach(async () => {
  const key = randomBytes(20).toString('hex');
  keyEnv = `TRUENAS_E2E_KEY_${randomBytes(4).toString('hex').toUpperCase()}`;
  process.env[keyEnv] = key;
  fake = await startFakeTrueNAS({ apiKey: key });
});
afterEach(async () => {
  await svc?.stop();
  await fake?.close();
  svc = undefined;
  delete process.env[keyEnv];
});

describe('incident containment with the real Disable procedure', () => {
  it('runs Disable as its child against the emulator service; the record shows the child and its outcome', async () => {
    svc = await startPulseService({ profile: 'feb', envFile: '# Pulse service environment\nPULSE_ENABLE_TRUENAS=true\n' });
    const s = svc;
    await s.pulse.addConnection(fake!.connection({ name: 'nas-1' }));
    await s.control.tick();
    expect((await s.pulse.listTrueNASResources()).resources.length).toBeGreaterThan(0);
    const pidBefore = await s.pid();

    // The procedure's input as a person gives it: the update's validator parses it with the Disable schema.
    const disableInput = {
      pulse: { url: s.url, token: { env: s.tokenEnv }, timeoutMs: 3000 },
      flag: { kind: 'env-file', path: s.envFile },
      restart: { kind: 'command', argv: s.argv('restart'), healthTimeoutMs: 20_000, healthIntervalMs: 100 },
      logs: { kind: 'file', path: s.logFile },
      staleThresholdSeconds: 2,
      graceSeconds: 5,
      verifyEverySeconds: 0.25,
      retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
    };
    expect(DisableInputSchema.safeParse(disableInput).success).toBe(true);

    const incidentId = uniqueId('incident-containment');
    const h: WorkflowHandle = await temporal.client.workflow.start<IncidentWorkflow>(INCIDENT_WORKFLOW, {
      taskQueue: temporal.taskQueue,
      workflowId: incidentId,
      args: [{ title: 'TrueNAS poller hammers the NAS', impacts: ['broad-outage'], openedBy: 'alice' }],
    });

    const { record, child, result } = await temporal.withWorker(async () => {
      const opened = await recordWhen(h);
      expect([opened.severity, opened.owner, opened.status]).toEqual(['P1', 'Pulse Operations', 'open']);
      const receipt = await update(h, 'startResponse', {
        actor: 'sam',
        phase: 'containment',
        summary: 'Disable the TrueNAS integration',
        procedure: { name: 'disable', input: disableInput },
      });
      expect(receipt).toMatchObject({ status: 'containing', actionIndex: 0, childWorkflowId: `${incidentId}.disable-1` });
      const done: IncidentRecord = await recordWhen(h, (r) => r.actions[0]?.child?.status !== 'running', 60_000);
      const childHandle = temporal.client.workflow.getHandle(receipt.childWorkflowId!);
      const childResult = (await childHandle.result()) as DisableResult;
      const childDescription = await childHandle.describe();
      await update(h, 'resolve', { actor: 'sam', finalOwner: 'ops', summary: 'TrueNAS disabled; poller fixed upstream' });
      const final = (await h.result()) as IncidentResult;
      return { record: done, child: { id: receipt.childWorkflowId!, result: childResult, description: childDescription }, result: final };
    });

    // The child really ran: the flag is off in the env file, Pulse was restarted once by the child and answers
    // 404 truenas_disabled, and no TrueNAS resource reports fresh data.
    expect(await flagLines(s)).toEqual(['PULSE_ENABLE_TRUENAS=false']);
    expect(s.invocations('restart')).toBe(1);
    expect(await s.pid()).not.toBe(pidBefore);
    await expect(s.pulse.listConnections()).rejects.toBeInstanceOf(PulseDisabledError);
    expect(child.result).toMatchObject({
      procedure: 'disable',
      restarted: true,
      flag: { changed: true, valueBefore: 'true', valueAfter: 'false' },
    });
    expect(child.result.finalResources!.online).toBe(0);

    // The incident record shows the child: which workflow, that it completed, and what it reported.
    const action = record.actions[0];
    expect(action).toMatchObject({ kind: 'containment', by: 'sam', summary: 'Disable the TrueNAS integration' });
    expect(action.child).toMatchObject({
      procedure: 'disable',
      workflowType: 'disable',
      workflowId: child.id,
      runId: child.description.runId,
      status: 'completed',
    });
    expect(action.child!.outcome).toMatch(/^completed; last step \[disable\.5\] ok/);
    expect(action.child!.result).toMatchObject({ procedure: 'disable', restarted: true, pulseUrl: s.url });
    expect((action.child!.result!.steps as Array<{ step: string }>).map((x) => x.step)).toEqual(child.result.evidence.map((e) => e.step));
    expect(JSON.stringify(record)).not.toContain(s.token);
    // P1: containment started at once, so the 15-minute timer was met, not escalated.
    const containedAfterMs = Date.parse(record.containmentStartedAt ?? '') - Date.parse(record.openedAt);
    expect(containedAfterMs).toBeGreaterThanOrEqual(0);
    expect(containedAfterMs).toBeLessThan(15 * 60_000);
    expect(result.incident.timers[0]).toMatchObject({ severity: 'P1', condition: 'containment', outcome: 'met' });
    expect(result.incident.status).toBe('resolved');
    expect(renderIncidentMarkdown(result.incident)).toContain(`child disable ${child.id}: completed`);

    // The child belongs to the incident: the memo says so, and it opened no incident of its own.
    expect(child.description.memo).toEqual({ [INCIDENT_MEMO_KEY]: incidentId });
    expect(child.description.parentExecution?.workflowId).toBe(incidentId);
    await expect(temporal.client.workflow.getHandle(`incident-for-${child.id}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });
});
