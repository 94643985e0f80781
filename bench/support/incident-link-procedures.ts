/**
 * Scripted activities for the two procedures that open an incident record (Kill-Switch and Code Rollback): the
 * answers a real Pulse, git repository and restart would give on a good run, shaped exactly like the real
 * activities' results (the types are checked against them). Used by scripts/record-histories.ts and by the
 * incident-link tests, which count the calls to prove what ran.
 *
 * Evidence times are the activity's scheduled time (workflow time under time skipping), so a recorded history
 * reads like a real run.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type * as gitActivities from '../../activities/git.js';
import type * as pulseActivities from '../../activities/index.js';
import type * as restartActivities from '../../activities/restart.js';
import type { FeatureFlagResult } from '../../activities/feature-flag.js';
import type { Action, Evidence } from '../../src/runbook/evidence.js';
import type { StepId } from '../../src/runbook/steps.js';
import { describeDeleteConnection, describeListConnections, describeListTrueNASResources } from '../../src/pulse/plan.js';

type Activities = typeof pulseActivities & typeof gitActivities & typeof restartActivities;
export type ScriptedActivities = Partial<Activities>;

/** Workflow time of the attempt when called by a worker; the wall clock otherwise. */
export function activityTime(): number {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

export function scriptedEvidence(step: StepId, summary: string, actions: Action[] = [], details?: Record<string, unknown>): Evidence {
  return { step, at: new Date(activityTime()).toISOString(), verdict: 'ok', summary, actions, ...(details ? { details } : {}) };
}

/** What a scripted setFeatureFlag answers: it wrote the flag to /etc/pulse/.env, which said `valueBefore`. */
export function scriptedFlagWrite(valueAfter: string | null, valueBefore: string | null): FeatureFlagResult {
  return {
    kind: 'env-file',
    path: '/etc/pulse/.env',
    changed: true,
    created: false,
    valueBefore,
    valueAfter,
    needsDaemonReload: false,
    needsRecreate: false,
  };
}

export interface KillSwitchScript {
  activities: ScriptedActivities;
  calls: string[];
}

/**
 * A Pulse with connections `ids` whose TrueNAS resources are gone from the `goneAtCheck`-th resource check on.
 * `failFirstList` makes the first listConnections call fail (a run that dies at kill-switch.1, for retries).
 */
export function scriptedKillSwitch(opts: { ids?: string[]; goneAtCheck?: number; failFirstList?: boolean } = {}): KillSwitchScript {
  const ids = opts.ids ?? ['nas-a', 'nas-b'];
  const goneAt = opts.goneAtCheck ?? 1;
  const calls: string[] = [];
  let checks = 0;
  let lists = 0;
  const activities: ScriptedActivities = {
    async listConnections({ pulse }) {
      calls.push('list');
      if (opts.failFirstList && ++lists === 1) throw new Error(`GET ${pulse.url}/api/truenas/connections: connect ECONNREFUSED (scripted)`);
      return {
        value: { ids, disabled: false },
        evidence: scriptedEvidence(
          'kill-switch.1',
          `${ids.length} TrueNAS connection(s) configured: ${ids.join(', ')}.`,
          [describeListConnections(pulse.url)],
          {
            status: 200,
            connections: ids.map((id) => ({ id, name: id, host: `https://${id}.lan`, enabled: true })),
          },
        ),
      };
    },
    async deleteConnection({ pulse, id, plan }) {
      calls.push(`delete ${id}${plan ? ' (plan)' : ''}`);
      if (plan)
        return {
          value: { outcome: 'planned' },
          evidence: {
            ...scriptedEvidence('kill-switch.2', `Would delete connection ${id}.`, [describeDeleteConnection(pulse.url, id)]),
            verdict: 'planned',
          },
        };
      return {
        value: { outcome: 'deleted' },
        evidence: scriptedEvidence('kill-switch.2', `Deleted connection ${id}.`, [describeDeleteConnection(pulse.url, id)], {
          status: 204,
          outcome: 'deleted',
        }),
      };
    },
    async verifyNoConnections({ pulse, step }) {
      calls.push('verify');
      return {
        value: { remaining: [] },
        evidence: scriptedEvidence(
          step ?? 'kill-switch.4',
          'GET /api/truenas/connections answered [].',
          [describeListConnections(pulse.url)],
          { status: 200, body: '[]' },
        ),
      };
    },
    async checkTrueNASResources({ pulse }) {
      calls.push('resources');
      const gone = ++checks >= goneAt;
      const endpoint = '/api/v2/resources';
      const total = gone ? 0 : 4;
      return {
        value: { total, online: total, stale: 0, offline: 0, missing: 0, endpoint, resources: [] },
        evidence: {
          ...scriptedEvidence(
            'kill-switch.5',
            gone
              ? 'No TrueNAS resources are listed (they vanished: the expected end state in Feb Pulse, §8.4).'
              : `${total} TrueNAS resource(s): 0 stale, ${total} still online.`,
            [describeListTrueNASResources(pulse.url, endpoint)],
            { endpoint, pages: 1 },
          ),
          verdict: gone ? 'ok' : 'inconclusive',
        },
      };
    },
  };
  return { activities, calls };
}

export interface CodeRollbackScript {
  activities: ScriptedActivities;
  calls: string[];
}

const SHA = {
  head: '5c1f0e2d9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d',
  to: '687ecd79a1b2c3d4e5f60718293a4b5c6d7e8f90',
  mid: '3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e',
  from: 'f9680ef8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2',
} as const;

/**
 * A repository where the range reverts cleanly, builds, and a restarted Pulse no longer serves the routes; or,
 * with `refuse`, one whose rollback.1 refuses the range (as validateRollbackRange does: non-retryable).
 */
export function scriptedCodeRollback(opts: { refuse?: { type: string; message: string }; failBuild?: string } = {}): CodeRollbackScript {
  const calls: string[] = [];
  const commits = [
    { sha: SHA.to, subject: 'TRR-00: rollout readiness plan' },
    { sha: SHA.mid, subject: 'TN-03: TrueNAS connection handlers' },
    { sha: SHA.from, subject: 'TN-00: TrueNAS GA plan' },
  ];
  const revertCommits = [
    'a1a1a1a1b2b2b2b2c3c3c3c3d4d4d4d4e5e5e5e5',
    'b2b2b2b2c3c3c3c3d4d4d4d4e5e5e5e5f6f6f6f6',
    'c3c3c3c3d4d4d4d4e5e5e5e5f6f6f6f6a7a7a7a7',
  ];
  const activities: ScriptedActivities = {
    async validateRollbackRange({ repoPath }) {
      calls.push('validate');
      if (opts.refuse) throw ApplicationFailure.create({ ...opts.refuse, nonRetryable: true });
      const revertArgv = ['git', 'revert', '--no-edit', `${SHA.from}^..${SHA.to}`];
      return {
        value: {
          repoPath,
          head: SHA.head,
          branch: 'main',
          from: SHA.from,
          to: SHA.to,
          fromIsRoot: false,
          commits,
          revertArgv,
          state: 'not-reverted',
          revertedBy: [],
          status: '',
        },
        evidence: scriptedEvidence(
          'rollback.1',
          `${commits.length} commit(s) ${SHA.from.slice(0, 12)}..${SHA.to.slice(0, 12)} are in the history of HEAD (main); the tree is clean.`,
          [],
          {
            repoPath,
            head: SHA.head,
            commits,
          },
        ),
      };
    },
    async revertRange({ repoPath }) {
      calls.push('revert');
      const argv = ['git', 'revert', '--no-edit', `${SHA.from}^..${SHA.to}`];
      return {
        value: { outcome: 'reverted', headBefore: SHA.head, headAfter: revertCommits[2], revertCommits, commits },
        evidence: scriptedEvidence(
          'rollback.2',
          `Reverted ${commits.length} commit(s); HEAD is now ${revertCommits[2].slice(0, 12)}.`,
          [{ kind: 'command', argv, cwd: repoPath }],
          {
            exitCode: 0,
          },
        ),
      };
    },
    async buildRepository({ repoPath, buildCommand }) {
      calls.push('build');
      if (opts.failBuild) throw ApplicationFailure.create({ type: 'BuildFailed', message: opts.failBuild, nonRetryable: true });
      const argv = buildCommand ?? ['go', 'build', './...'];
      return {
        value: { outcome: 'built', exitCode: 0, durationMs: 41_250 },
        evidence: scriptedEvidence('rollback.3', `${argv.join(' ')} exited 0 in 41.3 s.`, [{ kind: 'command', argv, cwd: repoPath }], {
          exitCode: 0,
          durationMs: 41_250,
        }),
      };
    },
    async restartPulse({ pulseUrl, step }) {
      calls.push('restart');
      const argv = ['systemctl', 'restart', 'pulse'];
      return {
        value: {
          commands: [{ argv, exitCode: 0, durationMs: 1_830, stdoutExcerpt: '', stderrExcerpt: '' }],
          health: { url: `${pulseUrl}/api/health`, status: 200, attempts: 3, elapsedMs: 2_400, bodyExcerpt: '{"status":"healthy"}' },
        },
        evidence: scriptedEvidence(step, `Restarted Pulse (${argv.join(' ')}); ${pulseUrl}/api/health answered 200 after 3 attempt(s).`, [
          { kind: 'command', argv },
        ]),
      };
    },
    async verifyTrueNASRoutesAbsent({ pulse, step }) {
      calls.push('routes');
      return {
        value: { answer: 'not-found', status: 404 },
        evidence: scriptedEvidence(
          step ?? 'rollback.4',
          'The TrueNAS routes are absent: GET /api/truenas/connections answered 404: the route is not registered.',
          [describeListConnections(pulse.url)],
          {
            status: 404,
            answer: 'not-found',
          },
        ),
      };
    },
  };
  return { activities, calls };
}
