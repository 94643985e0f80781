/**
 * The canary rollout end to end, with short gates: the Pulse emulator runs as a service that reads
 * PULSE_ENABLE_TRUENAS from a real env file, a real Prometheus 2.42 scrapes its metrics listener every second,
 * and the rollout runs on the real dev server with the real activities. Phase 1 enables TrueNAS through a real
 * child Enable workflow (flag edit, restart, connection to a fake TrueNAS); the real checkpoints go green; an
 * approver signs off and the rollout reaches phase 2. Then the fake TrueNAS fails every call: the poll failure
 * rate goes above 50 %, abort criterion 1 fires, and the rollback runs the real Disable workflow, which writes the
 * flag off and restarts Pulse. The run ends `aborted` with the reason.
 */
import { randomBytes } from 'node:crypto';
import { startFakeTrueNAS, type FakeTrueNAS } from '../../src/emulator/fake-truenas.js';
import { freePort } from '../../src/temporal/dev-server.js';
import type { CanaryInputRaw } from '../../src/config/canary.js';
import type { CanaryResult } from '../../workflows/canary-rollout.js';
import { canaryUpdate, statusWhen } from '../../bench/support/canary.js';
import { uniqueId } from '../support/e2e.js';
import { startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';
import {
  type EnableDisableTemporal,
  enableDisableTemporal,
  flagLines,
  hostSteps,
  type PulseService,
  startPulseService,
} from '../support/pulse-service.js';
import { CANARY_ROLLOUT_WORKFLOW, type CanaryRolloutWorkflow } from '../../workflows/canary-rollout.messages.js';

let temporal: EnableDisableTemporal;
let svc: PulseService;
let fake: FakeTrueNAS;
let prometheus: PrometheusProcess;
const keyEnv = `CANARY_E2E_KEY_${randomBytes(4).toString('hex').toUpperCase()}`;
const key = randomBytes(20).toString('hex');

beforeAll(async () => {
  process.env[keyEnv] = key;
  temporal = await enableDisableTemporal();
  fake = await startFakeTrueNAS({ apiKey: key });
  const metricsPort = await freePort();
  svc = await startPulseService({ envFile: 'PULSE_ENABLE_TRUENAS=false\n', metricsPort });
  prometheus = await startPrometheus({ targets: [{ url: `http://127.0.0.1:${metricsPort}/metrics`, job: 'pulse' }], scrapeInterval: 1 });
});
afterAll(async () => {
  await temporal?.close();
  await prometheus?.stop();
  await svc?.stop();
  await fake?.close();
  delete process.env[keyEnv];
});

it('reaches phase 2 on real metrics, then aborts on > 50 % poll failures and runs the real Disable', async () => {
  const input: CanaryInputRaw = {
    rollout: 'e2e',
    startedBy: 'rita',
    prometheus: { url: prometheus.url, timeoutMs: 5000 },
    checkEverySeconds: 1,
    // Short windows for a young TSDB scraped every second.
    windows: {
      'error-rate': 10,
      'staleness-gauge-max': 10,
      'staleness-never-succeeded': 10,
      'staleness-last-success': 10,
      'auth-gate': 10,
      'auth-errors': 10,
      'abort-failure-rate': 5,
      'resource-memory': 10,
      'resource-cpu': 10,
    },
    phase1: {
      minSeconds: 8,
      greenSeconds: 5,
      instances: [
        {
          name: 'dev-1',
          pulseUrl: svc.url,
          enable: {
            ...hostSteps(svc),
            connection: { name: 'nas-canary', host: 'http://127.0.0.1', port: fake.port, apiKey: { env: keyEnv } },
            appearWithinSeconds: 15,
            verifyEverySeconds: 0.25,
          },
          disable: { ...hostSteps(svc), staleThresholdSeconds: 2, graceSeconds: 5, verifyEverySeconds: 0.25 },
        },
      ],
    },
    phase2: { minSeconds: 3600, quietSeconds: 1800 },
    approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
  } as CanaryInputRaw;

  const handle = await temporal.client.workflow.start<CanaryRolloutWorkflow>(CANARY_ROLLOUT_WORKFLOW, {
    taskQueue: temporal.taskQueue,
    workflowId: uniqueId('canary-e2e'),
    args: [input],
  });
  const result = await temporal.withWorker(async () => {
    // Phase 1: the Enable child (its wave) turned the flag on and added the connection; the checkpoints go green on live data.
    await statusWhen(handle, (s) => s.fleet?.counts.enabled === 1, 90_000);
    expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=true']);
    await canaryUpdate(handle, 'confirmStagingRollback', { actor: 'olga', evidence: 'staging disable rehearsal' });
    const ready = await statusWhen(handle, (s) => s.missing.length === 1 && s.missing[0] === 'canary.checklist.5', 90_000);
    expect(
      ready.lastEvaluation?.checks
        .filter((c) => ['error-rate', 'auth-gate', 'staleness-last-success'].includes(c.check))
        .map((c) => `${c.check}:${c.verdict}`),
    ).toEqual(['error-rate:pass', 'staleness-last-success:pass', 'auth-gate:pass']);
    expect(ready.resources?.memoryBytes && Object.values(ready.resources.memoryBytes)[0]).toBeGreaterThan(0);
    await canaryUpdate(handle, 'signOff', { actor: 'sam', comment: 'e2e phase 1 green' });
    const phase2 = await statusWhen(handle, (s) => s.phase === 2, 30_000);
    expect(phase2.baseline?.source).toBe('phase1');

    // Every TrueNAS call fails: the poll failure ratio goes to 100 % and stays there for the 5 s window.
    await fake.setFault({ status: 500 });
    return (await handle.result()) as CanaryResult;
  }, 'canary-e2e-worker');

  expect(result.outcome).toBe('aborted');
  expect(result.abort).toMatchObject({ criterion: 'canary.abort.1', phase: 2 });
  expect(result.abort?.reason).toMatch(/poll failure rate above 50 %/);
  expect(result.abort?.rollback?.step).toBe('canary.phase2.5');
  expect(result.abort?.rollback?.children.map((c) => `${c.workflowType}:${c.instance}:${c.outcome}`)).toEqual(['disable:dev-1:completed']);
  // The real Disable wrote the flag off and restarted Pulse: the connections API now answers 404 truenas_disabled.
  expect(await flagLines(svc)).toEqual(['PULSE_ENABLE_TRUENAS=false']);
  const child = await temporal.client.workflow.getHandle(result.abort!.rollback!.children[0].workflowId).describe();
  expect(child.status.name).toBe('COMPLETED');
  expect(JSON.stringify(result)).not.toContain(key);
  expect(JSON.stringify(result)).not.toContain(svc.token);
}, 240_000);
