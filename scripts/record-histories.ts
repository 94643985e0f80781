/**
 * Records workflow histories for the replay tests (test/histories/*.json): one completed run per scenario, with
 * the workflow code as it is NOW, on the real time-skipping server, with scripted activities that answer the way
 * the real ones do on a good run (same shapes, realistic evidence).
 *
 *   npx tsx scripts/record-histories.ts                 records every scenario whose file does not exist yet
 *   npx tsx scripts/record-histories.ts enable disable  records only these (still never over an existing file)
 *   npx tsx scripts/record-histories.ts --overwrite kill-switch-with-incident   re-records on purpose
 *
 * An existing file is kept unless --overwrite names it: a history is the evidence of what OLDER code did, and
 * the replay test proves today's code still replays it. Record before changing a workflow (so the file holds
 * the old behaviour), change the code behind `patched()`, then add a scenario for the new behaviour.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import protoUtils from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { CanaryInputRaw } from '../src/config/canary.js';
import { scriptedMetrics } from '../bench/support/canary.js';
import type * as dataFileActivities from '../activities/data-files.js';
import type * as enableActivities from '../activities/index.js';
import type * as flagActivities from '../activities/feature-flag.js';
import type * as logActivities from '../activities/logs.js';
import type * as pulseActivities from '../activities/index.js';
import type * as restartActivities from '../activities/restart.js';
import { notifyIncidentWebhook } from '../activities/incident-notify.js';
import { startTimeSkipping, workflowBundle } from '../bench/support/time-skipping.js';
import {
  scriptedCodeRollback,
  scriptedEvidence,
  scriptedFlagWrite,
  scriptedKillSwitch,
  activityTime,
  type ScriptedActivities,
} from '../bench/support/incident-link-procedures.js';
import { KillSwitchInputSchema } from '../src/config/kill-switch.js';
import type { CodeRollbackInputRaw } from '../src/config/code-rollback-input.js';
import type { DataCleanupInputRaw } from '../src/config/data-cleanup-input.js';
import type { DisableInputRaw } from '../src/config/disable.js';
import type { EnableInputRaw } from '../src/config/enable.js';
import {
  describeAddConnection,
  describeDeleteConnection,
  describeListConnections,
  describeListTrueNASResources,
  describeTestConnectionById,
} from '../src/pulse/plan.js';
import { ApplicationFailure } from '@temporalio/common';
import { CANARY_ROLLOUT_WORKFLOW, CANARY_UPDATES, type CanaryUpdateName } from '../workflows/canary-rollout.messages.js';
import { CODE_ROLLBACK_WORKFLOW } from '../workflows/code-rollback.messages.js';
import { DATA_CLEANUP_WORKFLOW } from '../workflows/data-cleanup.messages.js';
import { DISABLE_WORKFLOW } from '../workflows/disable.messages.js';
import { ENABLE_WORKFLOW } from '../workflows/enable.messages.js';
import { KILL_SWITCH_WORKFLOW } from '../workflows/kill-switch.messages.js';
import type { WorkflowName } from '../workflows/procedure.messages.js';

type Scripted = ScriptedActivities &
  Partial<
    typeof enableActivities &
      typeof flagActivities &
      typeof logActivities &
      typeof dataFileActivities &
      typeof pulseActivities &
      typeof restartActivities
  >;

interface Scenario {
  /** The file name (without .json) and the workflow id suffix. */
  name: string;
  workflowType: WorkflowName;
  input: unknown;
  activities: () => Scripted;
  /** What people do while the run is open (updates, time passing); default: nothing, just wait for the result. */
  drive?: (env: TestWorkflowEnvironment, handle: WorkflowHandle) => Promise<void>;
  /** The run continues as new: every run of the chain is saved, as <name>.run<N>.json. */
  chain?: boolean;
  /** The run is meant to fail (a failure path under patched()): its failure is the expected end. */
  fails?: boolean;
}

const PULSE = { url: 'http://pulse.example:7655', token: { env: 'PULSE_TOKEN' } };
const restartOk =
  (pulseUrl: string): Scripted['restartPulse'] =>
  async ({ step }) => {
    const argv = ['systemctl', 'restart', 'pulse'];
    return {
      value: {
        commands: [{ argv, exitCode: 0, durationMs: 1_650, stdoutExcerpt: '', stderrExcerpt: '' }],
        health: { url: `${pulseUrl}/api/health`, status: 200, attempts: 2, elapsedMs: 1_900, bodyExcerpt: '{"status":"healthy"}' },
      },
      evidence: scriptedEvidence(step, `Restarted Pulse (${argv.join(' ')}); ${pulseUrl}/api/health answered 200 after 2 attempt(s).`, [
        { kind: 'command', argv },
      ]),
    };
  };
const markOk: Scripted['markLogPosition'] = async ({ step }) => ({
  value: { at: new Date(activityTime()).toISOString() },
  evidence: scriptedEvidence(step, 'Marked the journal position of unit pulse.', [
    { kind: 'command', argv: ['journalctl', '-u', 'pulse', '--show-cursor', '-n', '0'] },
  ]),
});

/**
 * A scripted verifyConnectionsEndpoint: 200 with the connections `listed` gives while the flag is on, else
 * (undefined) 404 truenas_disabled.
 */
function connectionsEndpoint(
  listed: () => Array<{ id: string; name: string; host: string; enabled: boolean }> | undefined,
): NonNullable<Scripted['verifyConnectionsEndpoint']> {
  return async ({ pulse, step, expect }) => {
    const connections = listed();
    return {
      value: { state: connections ? 'enabled' : 'disabled', connections: connections ?? [] },
      evidence: scriptedEvidence(
        step,
        `GET /api/truenas/connections answered ${connections ? `200 with an array of ${connections.length} connection(s)` : '404 truenas_disabled'}.`,
        [describeListConnections(pulse.url)],
        {
          status: connections ? 200 : 404,
          expected: expect,
        },
      ),
    };
  };
}

/** Enable: the flag was off, one restart, the connection is added and tested, the poller shows on the 2nd look. */
function enableScript(): Scripted {
  let enabled = false;
  let pollerLooks = 0;
  const id = '9f0c2d4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
  return {
    verifyConnectionsEndpoint: connectionsEndpoint(() => (enabled ? [] : undefined)),
    markLogPosition: markOk,
    async setFeatureFlag({ step, value }) {
      enabled = value === 'true';
      const flag = scriptedFlagWrite(value, null);
      const path = flag.path;
      return {
        value: flag,
        evidence: scriptedEvidence(step ?? 'enable.1', `${path}: no assignment → line 3: PULSE_ENABLE_TRUENAS=${value}.`, [
          { kind: 'file', op: 'write', path, change: `PULSE_ENABLE_TRUENAS=${value}` },
        ]),
      };
    },
    restartPulse: restartOk(PULSE.url),
    async addConnection({ pulse }) {
      const stored = { name: 'nas-a', host: 'https://nas-a.lan' };
      return {
        value: { id, outcome: 'added', ...stored, warnings: [] },
        evidence: scriptedEvidence(
          'enable.5',
          `Added connection ${id} (${stored.name}).`,
          [describeAddConnection(pulse.url, { ...stored, apiKey: '********', enabled: true })],
          { status: 201 },
        ),
      };
    },
    async testConnection({ pulse }) {
      return {
        value: { method: 'per-id' },
        evidence: scriptedEvidence(
          'enable.6',
          `POST /api/truenas/connections/${id}/test answered 200.`,
          [describeTestConnectionById(pulse.url, id)],
          { status: 200 },
        ),
      };
    },
    async verifyPollerRuns({ pulse }) {
      const observed = ++pollerLooks >= 2;
      return {
        value: observed
          ? { observed, signal: 'poll-state', lastAttemptAt: new Date(activityTime()).toISOString(), resources: 4 }
          : { observed, signal: 'none', resources: 0 },
        evidence: {
          ...scriptedEvidence('enable.4', observed ? `Connection ${id} was polled (v6 poll state).` : 'No poll yet.', [
            describeListConnections(pulse.url),
          ]),
          verdict: observed ? 'ok' : 'inconclusive',
        },
      };
    },
    async inspectTrueNASResources({ pulse, step }) {
      const endpoint = '/api/resources';
      return {
        value: { total: 4, online: 4, stale: 0, offline: 0, missing: 0, endpoint, resources: [] },
        evidence: scriptedEvidence(step, '4 TrueNAS resource(s) listed: 4 online.', [describeListTrueNASResources(pulse.url, endpoint)], {
          endpoint,
        }),
      };
    },
  };
}

/** Enable whose connection test fails (the NAS refuses the key): the undo deletes the connection, puts the flag back, restarts. */
function failingEnableScript(): Scripted {
  const base = enableScript();
  return {
    ...base,
    async testConnection() {
      throw ApplicationFailure.create({
        type: 'ConnectionTestFailed',
        message:
          'The connection test failed: Pulse could not reach the NAS (Pulse: "truenas connection test failed: … status=401"). This means the NAS refused the API key; check the key',
        nonRetryable: true,
      });
    },
    async deleteConnection({ pulse, id, step }) {
      return {
        value: { outcome: 'deleted' },
        evidence: scriptedEvidence(step ?? 'kill-switch.2', `Deleted connection ${id}.`, [describeDeleteConnection(pulse.url, id)], {
          status: 200,
        }),
      };
    },
  };
}

/** Disable: the flag was on, one restart, 404 truenas_disabled, the 120 s window, a silent log, resources gone. */
function disableScript(): Scripted {
  let enabled = true;
  return {
    verifyConnectionsEndpoint: connectionsEndpoint(() =>
      enabled ? [{ id: 'nas-a', name: 'nas-a', host: 'https://nas-a.lan', enabled: true }] : undefined,
    ),
    async inspectTrueNASResources({ pulse, step }) {
      const endpoint = '/api/v2/resources';
      const online = enabled ? 4 : 0;
      return {
        value: { total: enabled ? 4 : 0, online, stale: 0, offline: 0, missing: 0, endpoint, resources: [] },
        evidence: scriptedEvidence(
          step,
          enabled ? '4 TrueNAS resource(s) listed: 4 online.' : 'No TrueNAS resources are listed (they vanished: §8.4).',
          [describeListTrueNASResources(pulse.url, endpoint)],
          { endpoint },
        ),
      };
    },
    async setFeatureFlag({ step, value }) {
      enabled = value === 'true';
      const flag = scriptedFlagWrite(value, 'true');
      const path = flag.path;
      return {
        value: flag,
        evidence: scriptedEvidence(
          step ?? 'disable.1',
          `${path}: line 3: PULSE_ENABLE_TRUENAS=true → line 3: PULSE_ENABLE_TRUENAS=${value}.`,
          [{ kind: 'file', op: 'write', path, change: `PULSE_ENABLE_TRUENAS=${value}` }],
        ),
      };
    },
    restartPulse: restartOk(PULSE.url),
    markLogPosition: markOk,
    async checkPulseLogs({ step, mark }) {
      return {
        value: {
          source: 'journald',
          since: mark?.at ?? new Date(activityTime()).toISOString(),
          excerpt: [],
          linesRead: 42,
          feb: 0,
          v6: 0,
          errors: 0,
          shutdown: 0,
          total: 0,
        },
        evidence: scriptedEvidence(step, 'No TrueNAS poller line in 42 journal line(s) since the restart.', [
          { kind: 'command', argv: ['journalctl', '-u', 'pulse', '--no-pager'] },
        ]),
      };
    },
  };
}

/** Data Cleanup: truenas.enc exists and is removed once; the connections list is []; the key is untouched. */
function cleanupScript(): Scripted {
  const dataDir = '/etc/pulse';
  const facts = {
    path: `${dataDir}/truenas.enc`,
    size: 412,
    mode: '0600',
    dev: '2049',
    ino: '131077',
    nlink: 1,
    mtime: '2026-03-02T09:14:00.000Z',
    sha256: 'a3f1'.repeat(16),
  };
  const key = {
    path: `${dataDir}/.encryption.key`,
    exists: true,
    kind: 'file' as const,
    dev: '2049',
    ino: '131072',
    size: 44,
    mode: '0600',
    sha256: '7c0e'.repeat(16),
  };
  return {
    async resolveDataDir() {
      return {
        value: { path: dataDir, source: 'default', realPath: dataDir, dev: '2049', ino: '131071', mode: '0700' },
        evidence: scriptedEvidence('cleanup.1', `The data directory is ${dataDir} (PULSE_DATA_DIR is not set on the worker's host).`, [
          { kind: 'file', op: 'stat', path: dataDir },
        ]),
      };
    },
    async inspectTrueNASFile() {
      return {
        value: { exists: true, facts },
        evidence: scriptedEvidence(
          'cleanup.3',
          `${facts.path} is a regular file of ${facts.size} bytes.`,
          [{ kind: 'file', op: 'stat', path: facts.path }],
          { sha256: facts.sha256 },
        ),
      };
    },
    async fingerprintEncryptionKey({ step }) {
      return {
        value: key,
        evidence: scriptedEvidence(
          step ?? 'cleanup.7',
          `${key.path}: inode ${key.ino}, ${key.size} bytes.`,
          [{ kind: 'file', op: 'read', path: key.path }],
          { sha256: key.sha256 },
        ),
      };
    },
    async removeTrueNASFile() {
      return {
        value: { outcome: 'removed', path: facts.path, facts },
        evidence: scriptedEvidence('cleanup.4', `Removed ${facts.path} (sha256 ${facts.sha256.slice(0, 12)}…).`, [
          { kind: 'file', op: 'delete', path: facts.path },
        ]),
      };
    },
    async verifyNoConnections({ pulse, step }) {
      return {
        value: { remaining: [] },
        evidence: scriptedEvidence(step ?? 'cleanup.5', 'GET /api/truenas/connections answered [].', [describeListConnections(pulse.url)], {
          status: 200,
          body: '[]',
        }),
      };
    },
    async verifyEncryptionKeyIntact() {
      return {
        value: { intact: true },
        evidence: scriptedEvidence('cleanup.6', `${key.path} is the same file with the same content (inode, size, sha256).`),
      };
    },
  };
}

const rollbackInput: CodeRollbackInputRaw = {
  repoPath: '/srv/pulse',
  pulse: PULSE,
  restart: { kind: 'systemd' },
};

/** The canary chains: a check every 10 min and 5 checks per run, so each run continues as new. */
const canaryChainInput = (extra: Partial<CanaryInputRaw>): CanaryInputRaw => ({
  startedBy: 'rita',
  prometheus: { url: 'http://prometheus.example:9090' },
  checkEverySeconds: 600,
  cyclesPerRun: 5,
  approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
  ...extra,
});

const SCENARIOS: Scenario[] = [
  {
    name: 'kill-switch',
    workflowType: KILL_SWITCH_WORKFLOW,
    input: KillSwitchInputSchema.parse({ pulse: PULSE }),
    activities: () => scriptedKillSwitch({ ids: ['c1', 'c2'], goneAtCheck: 3 }).activities,
  },
  {
    // Recorded with the incident link (patched 'open-incident-record'): the run opens incident-for-<id>.
    name: 'kill-switch-with-incident',
    workflowType: KILL_SWITCH_WORKFLOW,
    input: KillSwitchInputSchema.parse({ pulse: PULSE }),
    activities: () => scriptedKillSwitch({ ids: ['c1', 'c2'], goneAtCheck: 3 }).activities,
  },
  {
    name: 'code-rollback',
    workflowType: CODE_ROLLBACK_WORKFLOW,
    input: rollbackInput,
    activities: () => scriptedCodeRollback().activities,
  },
  {
    name: 'code-rollback-with-incident',
    workflowType: CODE_ROLLBACK_WORKFLOW,
    input: rollbackInput,
    activities: () => scriptedCodeRollback().activities,
  },
  {
    // With the outcome report (patched 'report-outcome-to-incident'): the run signals its record how it ended.
    name: 'kill-switch-with-outcome',
    workflowType: KILL_SWITCH_WORKFLOW,
    input: KillSwitchInputSchema.parse({ pulse: PULSE }),
    activities: () => scriptedKillSwitch({ ids: ['c1', 'c2'], goneAtCheck: 3 }).activities,
  },
  {
    // With the lifecycle's input check (patched 'kill-switch-parses-input'): started raw, as a client that does not
    // parse would start it; the run fills the defaults itself (60 s tick).
    name: 'kill-switch-parsed-input',
    workflowType: 'killSwitch',
    input: { pulse: PULSE },
    activities: () => scriptedKillSwitch({ ids: ['c1', 'c2'], goneAtCheck: 3 }).activities,
  },
  {
    name: 'code-rollback-failed-with-outcome',
    workflowType: CODE_ROLLBACK_WORKFLOW,
    input: rollbackInput,
    fails: true,
    activities: () => scriptedCodeRollback({ failBuild: 'go build ./... exited 1: undefined: truenas.Client' }).activities,
  },
  {
    // The undo of a failed Enable (patched 'enable-undo-on-failure'): delete the added connection, flag back, restart.
    name: 'enable-failed-undone',
    workflowType: ENABLE_WORKFLOW,
    input: {
      pulse: PULSE,
      connection: { name: 'nas-a', host: 'https://nas-a.lan', apiKey: { env: 'TRUENAS_API_KEY' } },
    } satisfies EnableInputRaw,
    fails: true,
    activities: failingEnableScript,
  },
  {
    name: 'enable',
    workflowType: ENABLE_WORKFLOW,
    input: {
      pulse: PULSE,
      connection: { name: 'nas-a', host: 'https://nas-a.lan', apiKey: { env: 'TRUENAS_API_KEY' } },
    } satisfies EnableInputRaw,
    activities: enableScript,
  },
  { name: 'disable', workflowType: DISABLE_WORKFLOW, input: { pulse: PULSE } satisfies DisableInputRaw, activities: disableScript },
  {
    name: 'data-cleanup',
    workflowType: DATA_CLEANUP_WORKFLOW,
    input: { pulse: PULSE } satisfies DataCleanupInputRaw,
    activities: cleanupScript,
  },
  {
    // Phase 1 with a check every 10 min and 5 checks per run (so the chain continues as new), a staging test, a
    // sign-off, phase 2 with an issue and an opt-in instance, then a manual abort that runs a Disable child.
    name: 'canary-rollout',
    workflowType: CANARY_ROLLOUT_WORKFLOW,
    chain: true,
    input: canaryChainInput({
      phase1: { minSeconds: 3600, greenSeconds: 1800, instances: [{ name: 'dev-1', disable: { pulse: PULSE } }] },
    }),
    activities: () =>
      ({
        ...disableScript(),
        ...scriptedMetrics(
          () => ({}),
          () => 0,
        ).activities,
      }) as Scripted,
    async drive(env, handle) {
      const update = (name: CanaryUpdateName, payload: Record<string, unknown>) =>
        handle.executeUpdate<unknown, [unknown]>(CANARY_UPDATES[name], { args: [payload] });
      await update('confirmStagingRollback', { actor: 'olga', evidence: 'staging run 12' });
      await env.sleep(70 * 60_000);
      await update('signOff', { actor: 'sam', comment: 'phase 1 green' });
      await update('reportIssue', { actor: 'olga', severity: 'low', title: 'typo in the TrueNAS tab' });
      await update('registerInstance', { actor: 'olga', instance: { name: 'adopter-1', contact: 'adopter@example.com' } });
      await env.sleep(20 * 60_000);
      await update('abort', { actor: 'sam', reason: 'recorded history' });
    },
  },
  {
    // The fleet path (patched 'canary-fleet', issue 17): four instances from the template enabled in waves of two,
    // per-instance gates (fleet-2 breaks its error rate and is disabled on its own), 5 checks per run (the chain
    // continues as new), a sign-off, an opt-in instance registered in phase 2 and enabled in a wave, then a manual
    // abort whose rollback disables the others in waves.
    name: 'canary-fleet',
    workflowType: 'canaryRollout',
    chain: true,
    input: canaryChainInput({
      phase1: {
        minSeconds: 3600,
        greenSeconds: 1800,
        instances: [1, 2, 3, 4].map((i) => ({ name: `fleet-${i}`, pulseUrl: `http://fleet-${i}.example:7655` })),
      },
      fleet: {
        instanceLabel: 'pulse_instance',
        waves: { concurrency: 2, maxFailures: 1 },
        template: {
          enable: {
            pulse: { url: '{pulseUrl}', token: { env: 'PULSE_TOKEN' } },
            connection: { name: 'nas-{name}', host: 'https://nas-{name}.lan', apiKey: { env: 'TRUENAS_API_KEY' } },
          },
          disable: { pulse: { url: '{pulseUrl}', token: { env: 'PULSE_TOKEN' } } },
        },
      },
    }),
    activities: () => {
      let t0: number | undefined;
      const metrics = scriptedMetrics(
        (hours) => (hours >= 0.3 ? { instances: { 'fleet-2': { 'error-rate': '0.2' } } } : {}),
        () => (t0 ??= activityTime()),
      );
      return { ...enableScript(), ...disableScript(), ...metrics.activities } as Scripted;
    },
    async drive(env, handle) {
      const update = (name: string, payload: Record<string, unknown>) => handle.executeUpdate(name, { args: [payload] });
      await update('confirmStagingRollback', { actor: 'olga', evidence: 'staging run 12' });
      await env.sleep(70 * 60_000);
      await update('signOff', { actor: 'sam', comment: 'phase 1 green' });
      await update('registerInstance', { actor: 'olga', instance: { name: 'adopter-1', pulseUrl: 'http://adopter-1.example:7655' } });
      await env.sleep(30 * 60_000);
      await update('abort', { actor: 'sam', reason: 'recorded history' });
    },
  },
];

async function record(env: TestWorkflowEnvironment, scenario: Scenario, file: string): Promise<void> {
  const taskQueue = `record-${scenario.name}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    // The incident a procedure opens runs as a child on the same task queue; it notifies webhooks only when
    // some are configured (none here), but its activity is registered like on a real worker.
    activities: { ...scenario.activities(), notifyIncidentWebhook },
  });
  await worker.runUntil(async () => {
    const workflowId = `recorded-${scenario.name}`;
    const handle = await env.client.workflow.start(scenario.workflowType, { taskQueue, workflowId, args: [scenario.input] });
    await scenario.drive?.(env, handle);
    const failed = await handle.result().then(
      () => false,
      () => true,
    );
    if (failed !== Boolean(scenario.fails))
      throw new Error(`${scenario.name}: the run ${failed ? 'failed' : 'completed'}, which the scenario does not expect`);
    if (!scenario.chain) {
      const history = await handle.fetchHistory();
      writeFileSync(file, protoUtils.historyToJSON(history));
      console.log(`${scenario.name}: ${history.events?.length} events -> ${path.relative(process.cwd(), file)}`);
      return;
    }
    // Every run of the continue-as-new chain, from the first: <name>.run1.json, <name>.run2.json, ...
    let runId: string | undefined = handle.firstExecutionRunId;
    for (let n = 1; runId; n++) {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const runFile = file.replace(/\.json$/, `.run${n}.json`);
      writeFileSync(runFile, protoUtils.historyToJSON(history));
      console.log(`${scenario.name} run ${n}: ${history.events?.length} events -> ${path.relative(process.cwd(), runFile)}`);
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
  });
}

const args = process.argv.slice(2);
const overwrite = args.includes('--overwrite');
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const out = path.resolve('test/histories');
const chosen = SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name));
const todo = chosen.filter((s) => {
  const keep = existsSync(path.join(out, `${s.name}${s.chain ? '.run1' : ''}.json`)) && !(overwrite && names.includes(s.name));
  if (keep) console.log(`${s.name}: kept (test/histories/${s.name}.json exists; --overwrite ${s.name} to re-record it)`);
  return !keep;
});
if (todo.length > 0) {
  const env = await startTimeSkipping();
  try {
    for (const scenario of todo) await record(env, scenario, path.join(out, `${scenario.name}.json`));
  } finally {
    await env.teardown();
  }
}
