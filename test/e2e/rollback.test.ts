/**
 * The Code Rollback end to end: the real Temporal dev server and worker, a real git repository holding a tiny Go
 * HTTP server whose TrueNAS commits add /api/truenas/connections, a real `go build`, and a real restart command
 * that starts the rebuilt binary on a fixed port. Proves the revert, the build, the restart and the 404 on the
 * TrueNAS route; that a plan and bad input change nothing; and that a worker killed after the revert does not
 * revert twice.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { runCli } from '../support/cli-host.js';
import type { CodeRollbackInputRaw } from '../../src/config/code-rollback-input.js';
import type { CodeRollbackResult } from '../../workflows/code-rollback.js';
import { temporalAddress, temporalHarness, uniqueId, type TemporalHarness } from '../support/e2e.js';
import {
  createGoPulseRepo,
  git,
  GO_BUILD,
  GO_ENV,
  removeGoPulseTemplate,
  revertCommitsIn,
  type GoPulseRepo,
} from '../support/go-pulse-repo.js';
import { removeWorkerBundle, startWorkerProcess } from '../support/go-pulse-repo-worker.js';
import { failureOf, startAndSettle, type Settled } from '../support/settle.js';
import { progressQuery } from '../../workflows/procedure.messages.js';
import { CODE_ROLLBACK_WORKFLOW, type CodeRollbackWorkflow } from '../../workflows/code-rollback.messages.js';

let temporal: TemporalHarness;
beforeAll(async () => {
  temporal = await temporalHarness();
});
afterAll(async () => {
  await temporal?.close();
  await removeGoPulseTemplate();
  await removeWorkerBundle();
});

function input(fx: GoPulseRepo, extra: Partial<CodeRollbackInputRaw> = {}): CodeRollbackInputRaw {
  return {
    repoPath: fx.repo,
    from: fx.commits.tn00,
    to: fx.commits.trr00,
    buildCommand: GO_BUILD,
    buildEnv: GO_ENV,
    buildTimeoutMs: 120_000,
    restart: { kind: 'command', argv: fx.restartArgv, healthTimeoutMs: 20_000, healthIntervalMs: 100, commandTimeoutMs: 20_000 },
    pulse: { url: fx.url, timeoutMs: 3000 },
    retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 },
    ...extra,
  };
}

type Run = Settled<CodeRollbackResult>;

const runRollback = (args: CodeRollbackInputRaw): Promise<Run> =>
  startAndSettle<CodeRollbackWorkflow>(temporal, CODE_ROLLBACK_WORKFLOW, args, { idPrefix: 'rollback' });

async function repoState(repo: string) {
  return { head: await git(repo, 'rev-parse', 'HEAD'), status: await git(repo, 'status', '--porcelain=v1', '--untracked-files=all') };
}

async function historyEvents(handle: WorkflowHandle) {
  return (await handle.fetchHistory()).events ?? [];
}

/** How many times each activity type was scheduled, and the attempt numbers it started with. */
async function activityAttempts(handle: WorkflowHandle): Promise<Record<string, number[]>> {
  const events = await historyEvents(handle);
  const typeOf = new Map<string, string>();
  const out: Record<string, number[]> = {};
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) {
      typeOf.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const name = typeOf.get(String(started.scheduledEventId)) ?? '?';
      (out[name] ??= []).push(started.attempt ?? 0);
    }
  }
  return out;
}

describe('code rollback on a real Go repository', () => {
  let fx: GoPulseRepo;
  afterEach(async () => {
    await fx?.destroy();
  });

  it('reverts the range, builds, restarts the rebuilt server and sees the TrueNAS route gone; a re-run reverts nothing twice', async () => {
    fx = await createGoPulseRepo();
    await fx.buildAndStart();
    expect(await fx.status('/api/truenas/connections')).toBe(200);
    const pidBefore = await fx.pid();

    const run = await runRollback(input(fx));
    if (!run.ok) throw run.error;
    const r = run.result;

    // Step 2: four revert commits on top of the unrelated commit, newest TrueNAS commit reverted first.
    expect(r.revert.outcome).toBe('reverted');
    expect(r.revert.headBefore).toBe(fx.commits.after);
    expect(r.revert.revertCommits).toHaveLength(4);
    expect(await revertCommitsIn(fx.repo, `${fx.commits.after}..HEAD`)).toHaveLength(4);
    expect(await git(fx.repo, 'log', '--format=%s', '-4', '--reverse')).toBe(
      [
        'Revert "TRR-00: rollout readiness plan"',
        'Revert "TN-03: TrueNAS connection handlers"',
        'Revert "TN-01: TrueNAS REST client scaffold"',
        'Revert "TN-00: TrueNAS GA plan"',
      ].join('\n'),
    );
    await expect(fs.stat(join(fx.repo, 'internal/truenas'))).rejects.toThrow();
    await expect(fs.stat(join(fx.repo, 'cmd/pulse/truenas_routes.go'))).rejects.toThrow();
    expect(await fs.readFile(join(fx.repo, 'README.md'), 'utf8')).toBe('# Pulse\n');
    expect((await repoState(fx.repo)).status).toBe('');

    // Steps 3 and 4: the build passed, a new process runs, and the route answers 404 while health stays 200.
    expect(r.build?.exitCode).toBe(0);
    expect(r.restarted).toBe(true);
    expect(await fx.pid()).not.toBe(pidBefore);
    expect(r.routes).toEqual({ answer: 'not-found', status: 404 });
    expect(await fx.status('/api/truenas/connections')).toBe(404);
    expect(await fx.status('/api/health')).toBe(200);

    // Evidence per step; step 5 is a person's and says so.
    // escalation.3: the run's incident record, opened once rollback.1 proved the range and before the revert.
    // The last escalation.3: the run told its record how it ended (and that rollback.5 is left to a person).
    expect(r.evidence.map((e) => e.step)).toEqual([
      'rollback.1',
      'escalation.3',
      'rollback.2',
      'rollback.3',
      'rollback.4',
      'rollback.4',
      'rollback.5',
      'escalation.3',
    ]);
    expect(r.evidence.slice(0, 6).every((e) => e.verdict === 'ok')).toBe(true);
    expect(r.evidence[0].deviation).toMatch(/not in public main history/);
    expect(r.evidence[2].actions).toEqual([
      { kind: 'command', argv: ['git', 'revert', '--no-edit', `${fx.commits.tn00}^..${fx.commits.trr00}`], cwd: fx.repo },
    ]);
    expect(r.evidence[3].details).toMatchObject({ exitCode: 0 });
    expect(r.evidence[4].actions).toContainEqual(expect.objectContaining({ kind: 'command', argv: fx.restartArgv }));
    expect(r.evidence[5].summary).toMatch(/answered 404: the route is not registered/);
    expect(r.evidence[6]).toMatchObject({
      verdict: 'human',
      actions: [{ kind: 'human', instruction: expect.stringMatching(/badges and filters/) }],
    });
    expect(r.humanSteps.map((h) => h.step)).toEqual(['rollback.5']);

    // A second run finds its own revert commits and makes none.
    const again = await runRollback(input(fx));
    if (!again.ok) throw again.error;
    expect(again.result.revert.outcome).toBe('already-reverted');
    expect(again.result.revert.revertCommits).toEqual([]);
    expect(await revertCommitsIn(fx.repo, `${fx.commits.after}..HEAD`)).toHaveLength(4);
    expect(again.result.routes?.status).toBe(404);
  });

  it('plan mode lists the revert, build, restart and HTTP check, and changes nothing', async () => {
    fx = await createGoPulseRepo();
    await fx.buildAndStart();
    const before = await repoState(fx.repo);
    const pidBefore = await fx.pid();
    const binBefore = await fs.stat(fx.binPath);

    const run = await runRollback(input(fx, { plan: true }));
    if (!run.ok) throw run.error;
    const r = run.result;
    expect(await repoState(fx.repo)).toEqual(before);
    expect(await fx.pid()).toBe(pidBefore);
    expect((await fs.stat(fx.binPath)).mtimeMs).toBe(binBefore.mtimeMs);
    expect(await fx.status('/api/truenas/connections')).toBe(200);

    expect(r.evidence.map((e) => [e.step, e.verdict])).toEqual([
      ['rollback.1', 'ok'],
      ['escalation.3', 'planned'],
      ['rollback.2', 'planned'],
      ['rollback.3', 'planned'],
      ['rollback.4', 'planned'],
      ['rollback.4', 'planned'],
      ['rollback.5', 'human'],
    ]);
    const actions = r.evidence.flatMap((e) => e.actions ?? []);
    expect(actions).toContainEqual({
      kind: 'command',
      argv: ['git', 'revert', '--no-edit', `${fx.commits.tn00}^..${fx.commits.trr00}`],
      cwd: fx.repo,
    });
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'command', argv: GO_BUILD, cwd: fx.repo, env: GO_ENV }));
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'command', argv: fx.restartArgv }));
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'http', method: 'GET', url: `${fx.url}/api/health` }));
    expect(actions).toContainEqual(
      expect.objectContaining({
        kind: 'http',
        method: 'GET',
        url: `${fx.url}/api/truenas/connections`,
        expect: expect.stringMatching(/404/),
      }),
    );
    expect(r.range.commits.map((c) => c.sha)).toEqual([fx.commits.trr00, fx.commits.tn03, fx.commits.tn01, fx.commits.tn00]);
    expect(r.revert.outcome).toBe('planned');
    expect(r.restarted).toBe(false);
  });

  it('Pulse still serving the TrueNAS route after the restart fails rollback.4 with TrueNASRoutesPresent', async () => {
    fx = await createGoPulseRepo();
    await fx.buildAndStart();
    // A "restart" that leaves the old binary running: the typical mistake of restarting an installed copy.
    const run = await runRollback(
      input(fx, { restart: { kind: 'command', argv: ['true'], healthTimeoutMs: 5000, healthIntervalMs: 100 } }),
    );
    const failure = failureOf(run);
    expect(failure.type).toBe('TrueNASRoutesPresent');
    expect(failure.message).toMatch(/still answers 200.*rebuilt binary/);
    expect(run.progress?.evidence.at(-2)).toMatchObject({ step: 'rollback.4', verdict: 'failed' });
    expect(run.progress?.evidence.at(-1)).toMatchObject({
      step: 'escalation.3',
      verdict: 'ok',
      summary: expect.stringMatching(/that this run failed; left to do: rollback\.4: .*rollback\.5: /),
    });
  });
});

describe('code rollback refuses bad input and changes nothing', () => {
  let fx: GoPulseRepo;
  beforeAll(async () => {
    fx = await createGoPulseRepo();
  });
  afterAll(async () => {
    await fx?.destroy();
  });

  /** Runs with `extra` on top of the usual input, without the fields named in `drop` (so their defaults apply). */
  async function refused(extra: Partial<CodeRollbackInputRaw>, drop: Array<keyof CodeRollbackInputRaw> = []) {
    const before = await repoState(fx.repo);
    const args = input(fx, extra);
    for (const field of drop) delete args[field];
    const run = await runRollback(args);
    const failure = failureOf(run);
    expect(await repoState(fx.repo)).toEqual(before);
    return { failure, run };
  }

  it('an unknown commit id', async () => {
    const { failure, run } = await refused({ from: 'deadbeef' });
    expect(failure.type).toBe('CommitUnknown');
    expect(failure.message).toMatch(/from deadbeef is not a commit of the repository/);
    expect(run.progress?.evidence).toEqual([expect.objectContaining({ step: 'rollback.1', verdict: 'failed' })]);
  });

  it('a commit id that is not hex, refused before any step runs', async () => {
    const { failure, run } = await refused({ to: 'HEAD~1; rm -rf /' });
    expect(failure.type).toBe('InvalidRollbackInput');
    expect(failure.message).toMatch(/^invalid code rollback input: to: to must be a hex commit id/);
    expect(run.progress).toBeUndefined();
  });

  it("the runbook's default range, which this repository's history does not have, with the §8.7 explanation", async () => {
    const { failure } = await refused({}, ['from', 'to']);
    expect(failure.type).toBe('CommitUnknown');
    expect(failure.message).toMatch(/from f9680ef8 is not a commit/);
    expect(failure.message).toMatch(/exists only on the February TrueNAS development line.*--from\/--to/);
  });

  it('a range that is not in the history of HEAD', async () => {
    await git(fx.repo, 'checkout', '-q', '-b', 'side', fx.commits.init);
    await fs.writeFile(join(fx.repo, 'side.txt'), 'side\n');
    await git(fx.repo, 'add', 'side.txt');
    await git(fx.repo, 'commit', '-q', '-m', 'side work, never merged');
    const side = await git(fx.repo, 'rev-parse', 'HEAD');
    await git(fx.repo, 'checkout', '-q', 'main');
    const { failure } = await refused({ from: side, to: side });
    expect(failure.type).toBe('RangeNotInHistory');
    expect(failure.message).toMatch(/is not an ancestor of HEAD/);
  });

  it('a dirty work tree', async () => {
    await fs.writeFile(join(fx.repo, 'README.md'), '# Pulse, edited by hand\n');
    await fs.writeFile(join(fx.repo, 'notes.txt'), 'untracked\n');
    try {
      const { failure } = await refused({});
      expect(failure.type).toBe('WorkTreeDirty');
      expect(failure.message).toMatch(/uncommitted or untracked changes/);
      expect(await fs.readFile(join(fx.repo, 'README.md'), 'utf8')).toBe('# Pulse, edited by hand\n');
    } finally {
      await git(fx.repo, 'checkout', '--', 'README.md');
      await fs.rm(join(fx.repo, 'notes.txt'));
    }
  });
});

describe('code rollback survives a killed worker', () => {
  let fx: GoPulseRepo;
  afterEach(async () => {
    await fx?.destroy();
  });

  it('a worker killed during the build (after the revert) is replaced; the range is reverted once, not twice', async () => {
    fx = await createGoPulseRepo();
    await fx.buildAndStart();
    const taskQueue = uniqueId('rollback-kill');
    // A slow build keeps the run inside rollback.3 long enough to kill the worker there.
    const args = input(fx, { buildCommand: ['sh', '-c', 'sleep 3 && exec go build -o bin/ ./...'], buildHeartbeatTimeoutSeconds: 15 });
    const handle = await temporal.client.workflow.start<CodeRollbackWorkflow>(CODE_ROLLBACK_WORKFLOW, {
      taskQueue,
      workflowId: uniqueId('rollback-kill'),
      args: [args],
    });

    const first = await startWorkerProcess(temporalAddress(), taskQueue);
    let second: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
    try {
      // Wait until the revert's completion is recorded and the build has started, then kill the worker.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const progress = await handle.query(progressQuery).catch(() => undefined);
        if (progress?.current?.step === 'rollback.3') break;
        if (Date.now() > deadline) throw new Error(`the run never reached rollback.3:\n${first.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.kill();
      expect(await revertCommitsIn(fx.repo, `${fx.commits.after}..HEAD`)).toHaveLength(4);

      second = await startWorkerProcess(temporalAddress(), taskQueue);
      const r: CodeRollbackResult = await handle.result();

      // The revert result came from history: still 'reverted' with its commits, and no second set of commits.
      expect(r.revert.outcome).toBe('reverted');
      expect(r.revert.revertCommits).toHaveLength(4);
      expect(await revertCommitsIn(fx.repo, `${fx.commits.after}..HEAD`)).toHaveLength(4);
      expect(await git(fx.repo, 'rev-list', '--count', `${fx.commits.after}..HEAD`)).toBe('4');
      expect(r.routes?.status).toBe(404);
      expect(await fx.status('/api/truenas/connections')).toBe(404);

      const attempts = await activityAttempts(handle);
      expect(attempts.revertRange).toEqual([1]);
      // The build was cut off by the kill, so it ran again: one started event, on a later attempt (2 or more).
      expect(attempts.buildRepository).toHaveLength(1);
      expect(attempts.buildRepository[0]).toBeGreaterThanOrEqual(2);
    } finally {
      await first.kill();
      await second?.kill();
    }
  });
});

describe('pulse-runbook rollback', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(['rollback', ...args], {
      env: { PULSE_URL: '', PULSE_TOKEN: '', ...env },
      timeoutMs: 120_000,
    });

  let fx: GoPulseRepo;
  beforeAll(async () => {
    fx = await createGoPulseRepo();
  });
  afterAll(async () => {
    await fx?.destroy();
  });

  it('refuses a non-hex --from and names the flag, before anything starts', async () => {
    const r = await cli(['--repo', fx.repo, '--from', 'zzzz', '--pulse-url', fx.url], { TEMPORAL_ADDRESS: temporalAddress() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/rollback --from: from must be a hex commit id/);
  });

  it('refuses a restart command that is not a JSON argv', async () => {
    const r = await cli(['--repo', fx.repo, '--pulse-url', fx.url, '--restart-command', 'systemctl restart pulse'], {
      TEMPORAL_ADDRESS: temporalAddress(),
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--restart-command: must be a JSON array of strings/);
    // The old spelling still works as a hidden alias, with one warning naming the flags every procedure shares.
    expect(
      r.stderr.split('\n').filter((l) => l.startsWith('warning: --restart, --restart-unit and --restart-command are deprecated')),
    ).toHaveLength(1);
    expect(r.stderr).toContain('--systemd-unit <name>, --restart-cmd <json> or --container-recreate [json]');
  });

  it('--plan prints each step with the exact commands and HTTP calls, and changes nothing', async () => {
    const before = await repoState(fx.repo);
    const r = await temporal.withWorker(() =>
      cli(
        [
          '--plan',
          '--repo',
          fx.repo,
          '--from',
          fx.commits.tn00.slice(0, 8),
          '--to',
          fx.commits.trr00.slice(0, 8),
          '--pulse-url',
          fx.url,
          '--build-command',
          JSON.stringify(GO_BUILD),
          '--build-env',
          'GOFLAGS=-mod=mod',
          '--restart-cmd',
          JSON.stringify(fx.restartArgv),
        ],
        { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: temporal.taskQueue },
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('PLAN (nothing will be changed): code-rollback');
    // Said up front: the build is a check; the restart has to deploy the rebuilt binary.
    expect(
      r.stdout.indexOf('Note: The build step (go build ./...) only checks that the reverted code compiles: it installs nothing'),
    ).toBeLessThan(r.stdout.indexOf('PLAN'));
    for (const step of ['rollback.1', 'rollback.2', 'rollback.3', 'rollback.4', 'rollback.5']) expect(r.stdout).toContain(`[${step}]`);
    expect(r.stdout).toContain(`$ git revert --no-edit ${fx.commits.tn00}^..${fx.commits.trr00}   (in ${fx.repo})`);
    expect(r.stdout).toContain(`$ go build -o bin/ ./...   (in ${fx.repo})`);
    expect(r.stdout).toContain(`$ ${fx.restartArgv.join(' ')}`);
    expect(r.stdout).toContain(`GET ${fx.url}/api/truenas/connections`);
    expect(r.stdout).toMatch(/☐ \[rollback\.5\][^\n]*\n\s+For a person: Open the Pulse web UI/);
    expect(r.stdout).toContain('Plan complete, nothing was changed');
    expect(await repoState(fx.repo)).toEqual(before);
  });
});
