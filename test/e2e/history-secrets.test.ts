/**
 * Secrets by reference, checked where it matters: the full history of every workflow type. One run of each
 * procedure on the real dev server with the real activities, against the emulator run as a service and a fake
 * TrueNAS, with real secret values behind every reference (the Pulse token, the TrueNAS API key, a Prometheus
 * bearer token, a webhook bearer token). The worker reads them from the environment inside activities, so none
 * may appear in any history: not in the JSON, and not in any payload once decoded from base64.
 *
 * The runs use no payload codec on purpose: encryption would hide a leak from this scan (the codec has its own
 * tests, test/e2e/codec.test.ts). As a control, a value that IS in the inputs (the Pulse URL) is found.
 */
import { randomBytes } from 'node:crypto';
import protoUtils from '@temporalio/common/lib/proto-utils.js';
import type { WorkflowHandle } from '@temporalio/client';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { createGoPulseRepo, GO_BUILD, GO_ENV, removeGoPulseTemplate, type GoPulseRepo } from '../support/go-pulse-repo.js';
import {
  type EnableDisableTemporal,
  enableDisableTemporal,
  hostSteps,
  type PulseService,
  startPulseService,
} from '../support/pulse-service.js';
import { uniqueId } from '../support/e2e.js';
import { acknowledgeUpdate, resolveUpdate } from '../../workflows/incident.messages.js';
import { ALERT_MONITOR_WORKFLOW } from '../../workflows/alert-monitor.messages.js';
import { CODE_ROLLBACK_WORKFLOW } from '../../workflows/code-rollback.messages.js';
import { DATA_CLEANUP_WORKFLOW } from '../../workflows/data-cleanup.messages.js';
import { DISABLE_WORKFLOW } from '../../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../../workflows/enable.messages.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';
import type { WorkflowName } from '../../workflows/procedure.messages.js';
import { CANARY_ROLLOUT_WORKFLOW } from '../../workflows/canary-rollout.messages.js';
import { DOCTOR_WORKFLOW } from '../../workflows/doctor.messages.js';

let temporal: EnableDisableTemporal;
let svc: PulseService;
let fake: FakeTrueNAS;
let repo: GoPulseRepo;
const env = (name: string) => `HS_${name}_${randomBytes(3).toString('hex').toUpperCase()}`;
const refs = { truenasKey: env('TRUENAS_KEY'), promBearer: env('PROM_BEARER'), hookBearer: env('HOOK_BEARER') };
const secrets: Record<string, string> = {
  truenasKey: randomBytes(20).toString('hex'),
  promBearer: randomBytes(24).toString('hex'),
  hookBearer: randomBytes(24).toString('hex'),
};
const prefix = uniqueId('hs');

beforeAll(async () => {
  for (const [k, name] of Object.entries(refs)) process.env[name] = secrets[k];
  temporal = await enableDisableTemporal();
  fake = await startFakeTrueNAS({ apiKey: secrets.truenasKey });
  svc = await startPulseService({ envFile: 'PULSE_ENABLE_TRUENAS=false\n' });
  secrets.pulseToken = svc.token;
  repo = await createGoPulseRepo();
}, 120_000);
afterAll(async () => {
  await temporal?.close();
  await svc?.stop();
  await fake?.close();
  await repo?.destroy();
  await removeGoPulseTemplate();
  for (const name of Object.values(refs)) delete process.env[name];
});

/** Every string in the history JSON, plus every base64 `data` field decoded (payloads are base64 JSON). */
function searchable(json: string): string {
  const decoded: string[] = [];
  JSON.parse(json, (key, value) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return `${json}\n${decoded.join('\n')}`;
}

it('no secret value appears in the history of any workflow type', async () => {
  const started: WorkflowHandle[] = [];
  const start = async (type: WorkflowName, input: unknown) => {
    const handle = await temporal.client.workflow.start(type, {
      taskQueue: temporal.taskQueue,
      workflowId: `${prefix}-${type}`,
      args: [input],
    });
    started.push(handle);
    return handle;
  };
  const connection = { name: 'nas-hs', host: 'http://127.0.0.1', port: fake.port, apiKey: { env: refs.truenasKey } };
  const webhook = { name: 'hook', url: 'http://127.0.0.1:9/hook', bearer: { env: refs.hookBearer } };

  await temporal.withWorker(async () => {
    // Enable reads the TrueNAS key and sends it to Pulse; Kill-Switch deletes the connection and opens an incident.
    await (await start(ENABLE_WORKFLOW, { ...hostSteps(svc), connection, appearWithinSeconds: 15, verifyEverySeconds: 0.25 })).result();
    await (
      await start(KILL_SWITCH_WORKFLOW, {
        pulse: hostSteps(svc).pulse,
        tickSeconds: 1,
        staleThresholdSeconds: 5,
        verifyEverySeconds: 0.5,
        retry: hostSteps(svc).retry,
      })
    ).result();
    await (
      await start(DISABLE_WORKFLOW, { ...hostSteps(svc), staleThresholdSeconds: 2, graceSeconds: 5, verifyEverySeconds: 0.25 })
    ).result();
    await (await start(DATA_CLEANUP_WORKFLOW, { pulse: hostSteps(svc).pulse, dataDir: svc.dataDir, plan: true })).result();
    // The doctor reads the token on the worker and calls Pulse with it (issue 15): its input and answers name the reference only.
    const { pulse, flag, restart } = hostSteps(svc);
    await (await start(DOCTOR_WORKFLOW, { pulse, flag, restart, dataDir: { path: svc.dataDir } })).result();
    await (
      await start(CODE_ROLLBACK_WORKFLOW, {
        repoPath: repo.repo,
        from: repo.commits.tn00,
        to: repo.commits.trr00,
        buildCommand: GO_BUILD,
        buildEnv: GO_ENV,
        restart: { kind: 'command', argv: repo.restartArgv },
        pulse: hostSteps(svc).pulse,
        plan: true,
      })
    ).result();
    await (
      await start(ALERT_MONITOR_WORKFLOW, {
        prometheus: { url: 'http://127.0.0.1:9', token: { env: refs.promBearer }, timeoutMs: 1000 },
        webhooks: [webhook],
        plan: true,
      })
    ).result();
    await (
      await start(CANARY_ROLLOUT_WORKFLOW, {
        startedBy: 'rita',
        prometheus: { url: 'http://127.0.0.1:9', token: { env: refs.promBearer }, timeoutMs: 1000 },
        approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
        phase1: { instances: [{ name: 'dev-1', enable: { ...hostSteps(svc), connection } }] },
        plan: true,
      })
    ).result();
    // The incident the kill-switch opened: acknowledged and resolved by people, so its history has updates too.
    const incident = temporal.client.workflow.getHandle(`incident-for-${prefix}-killSwitch`);
    await incident.executeUpdate(acknowledgeUpdate, { args: [{ actor: 'olga' }] });
    await incident.executeUpdate(resolveUpdate, { args: [{ actor: 'olga', finalOwner: 'ops', summary: 'connections removed' }] });
    await incident.result();
  });

  // Every run of this test, children included (the incident, the canary's Enable plan).
  const ids: string[] = [];
  for await (const wf of temporal.client.workflow.list({
    query: `WorkflowId STARTS_WITH "${prefix}" OR WorkflowId STARTS_WITH "incident-for-${prefix}"`,
  })) {
    ids.push(`${wf.type}:${wf.workflowId}`);
    const history = await temporal.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    const text = searchable(protoUtils.historyToJSON(history));
    for (const [name, value] of Object.entries(secrets)) {
      expect({ workflow: wf.workflowId, secret: name, found: text.includes(value) }).toEqual({
        workflow: wf.workflowId,
        secret: name,
        found: false,
      });
    }
    // The control: the scan does see what the inputs hold.
    if (wf.type !== 'alertMonitor') expect(text).toContain(svc.url);
  }
  expect([...new Set(ids.map((i) => i.split(':')[0]))].sort()).toEqual([
    'alertMonitor',
    'canaryRollout',
    'codeRollback',
    'dataCleanup',
    'disable',
    'doctor',
    'enable',
    'incident',
    'killSwitch',
  ]);
  expect(started).toHaveLength(8);
}, 300_000);
