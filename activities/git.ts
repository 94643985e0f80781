/**
 * Code Rollback activities (runbook §4). Side effects only; the workflow decides the order. In plan mode the
 * read-only git commands still run (so the plan shows the real range and the exact argv), and nothing that
 * changes the repository or builds it is done.
 */
import { ApplicationFailure } from '@temporalio/common';
import { activityJournal, activitySignal } from './support/heartbeat.js';
import { withHostFailures } from './support/host-failures.js';
import { z } from 'zod';
import {
  BuildInputSchema,
  ROLLBACK_FAILURES,
  RollbackRangeInputSchema,
  type BuildInputRaw,
  type RollbackRangeInputRaw,
} from '../src/config/rollback.js';
import {
  RollbackError,
  checkWorkTree,
  inspectRollback,
  rangeText,
  revertRange as revertRangeOnHost,
  runBuild,
  type RollbackInspection,
} from '../src/host/git.js';
import { evidence, type Action, type StepOutcome } from '../src/runbook/evidence.js';
import { stepOf, withoutStep, type StepInput } from './support/step.js';

function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw ApplicationFailure.create({
      message: `invalid rollback input: ${message}`,
      type: ROLLBACK_FAILURES.invalidInput,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

/** Runs an activity body with the host's RollbackErrors mapped to failures, heartbeating meanwhile. */
const translated = <T>(fn: () => Promise<T>): Promise<T> => withHostFailures(RollbackError, fn);

const short = (sha: string) => sha.slice(0, 12);

function rangeDetails(i: RollbackInspection): Record<string, unknown> {
  return {
    repoPath: i.repoPath,
    head: i.head,
    branch: i.branch,
    from: i.from,
    to: i.to,
    fromIsRoot: i.fromIsRoot,
    commits: i.commits,
    state: i.state,
    revertedBy: i.revertedBy,
    status: i.status,
  };
}

/** rollback.1: the repository is the right one and the range can be reverted (read-only, also in plan mode). */
export async function validateRollbackRange(input: RollbackRangeInputRaw & StepInput): Promise<StepOutcome<RollbackInspection>> {
  const step = stepOf('validateRollbackRange', input);
  const parsed = parseInput(RollbackRangeInputSchema, withoutStep(input));
  return translated(async () => {
    const inspection = await inspectRollback(parsed);
    const range = rangeText(inspection.from, inspection.to, inspection.fromIsRoot);
    const summary =
      inspection.state === 'already-reverted'
        ? `The range ${range} (${inspection.commits.length} commit(s)) is already reverted on HEAD ${short(inspection.head)}; nothing to revert.`
        : `The range ${range} (${inspection.commits.length} commit(s)) is in the history of HEAD ${short(inspection.head)}${inspection.branch ? ` on ${inspection.branch}` : ' (detached)'}; the tree is clean.`;
    const actions: Action[] = [
      { kind: 'command', argv: ['git', 'rev-parse', '--show-toplevel'], cwd: inspection.repoPath },
      { kind: 'command', argv: ['git', 'rev-parse', '--verify', '--quiet', `${parsed.from}^{commit}`], cwd: inspection.repoPath },
      { kind: 'command', argv: ['git', 'rev-parse', '--verify', '--quiet', `${parsed.to}^{commit}`], cwd: inspection.repoPath },
      { kind: 'command', argv: ['git', 'merge-base', '--is-ancestor', inspection.from, inspection.to], cwd: inspection.repoPath },
      { kind: 'command', argv: ['git', 'merge-base', '--is-ancestor', inspection.to, 'HEAD'], cwd: inspection.repoPath },
      { kind: 'command', argv: ['git', 'status', '--porcelain=v1', '--untracked-files=all'], cwd: inspection.repoPath },
    ];
    return { value: inspection, evidence: evidence(step, 'ok', summary, actions, rangeDetails(inspection)) };
  });
}

export type RevertOutcome = 'reverted' | 'already-reverted' | 'planned';

export interface RevertValue {
  outcome: RevertOutcome;
  headBefore: string;
  headAfter: string;
  /** Commits created by this run, oldest first. */
  revertCommits: string[];
  /** The reverted range, newest first. */
  commits: Array<{ sha: string; subject: string }>;
}

/**
 * rollback.2: `git revert --no-edit <from>^..<to>`. Idempotent: a range already reverted by an earlier run
 * (recognised from the revert commits' own messages, see findLiveReverts) gives 'already-reverted' and no new
 * commit. A conflict aborts the revert, proves the repository is unchanged and fails with RevertConflict.
 */
export async function revertRange(input: RollbackRangeInputRaw & StepInput): Promise<StepOutcome<RevertValue>> {
  const step = stepOf('revertRange', input);
  const parsed = parseInput(RollbackRangeInputSchema, withoutStep(input));
  return translated(async () => {
    if (parsed.plan) {
      const inspection = await inspectRollback(parsed);
      const action: Action = { kind: 'command', argv: inspection.revertArgv, cwd: inspection.repoPath };
      const already = inspection.state === 'already-reverted';
      return {
        value: {
          outcome: 'planned',
          headBefore: inspection.head,
          headAfter: inspection.head,
          revertCommits: [],
          commits: inspection.commits,
        },
        evidence: evidence(
          step,
          'planned',
          already
            ? `The range is already reverted on HEAD ${short(inspection.head)}; the revert would create no commit.`
            : `Would run ${inspection.revertArgv.join(' ')} in ${inspection.repoPath}, creating ${inspection.commits.length} revert commit(s) on ${short(inspection.head)}.`,
          already ? [] : [action],
          rangeDetails(inspection),
        ),
      };
    }
    // The attempts of this step tell each other (durably, activities/support/heartbeat.ts) that a revert started
    // from which HEAD: a retry that finds the range reverted then knows the commits are this run's.
    const journal = activityJournal<{ revertingFrom?: string }>();
    const startedFrom = journal.previous.find((e) => e.revertingFrom)?.revertingFrom;
    const before = await inspectRollback(parsed);
    if (before.state !== 'already-reverted') await journal.record({ revertingFrom: before.head }, { durable: true });
    const hostResult = await revertRangeOnHost(parsed);
    const result =
      hostResult.outcome === 'already-reverted' && startedFrom
        ? {
            ...hostResult,
            outcome: 'reverted' as const,
            headBefore: startedFrom,
            revertCommits: [...new Set(hostResult.inspection.revertedBy.map((r) => r.revertedBy))].reverse(),
          }
        : hostResult;
    const { inspection } = result;
    const action: Action = { kind: 'command', argv: inspection.revertArgv, cwd: inspection.repoPath };
    const summary =
      result.outcome === 'already-reverted'
        ? `The range ${rangeText(inspection.from, inspection.to, inspection.fromIsRoot)} was already reverted by an earlier run; no new commit (HEAD ${short(result.headAfter)}).`
        : hostResult.outcome === 'already-reverted'
          ? `Reverted ${inspection.commits.length} commit(s): HEAD ${short(result.headBefore)} → ${short(result.headAfter)} (in an earlier attempt of this step, whose completion was lost with its worker; not reverted again).`
          : `Reverted ${inspection.commits.length} commit(s): HEAD ${short(result.headBefore)} → ${short(result.headAfter)}.`;
    return {
      value: {
        outcome: result.outcome,
        headBefore: result.headBefore,
        headAfter: result.headAfter,
        revertCommits: result.revertCommits,
        commits: inspection.commits,
      },
      evidence: evidence(step, 'ok', summary, result.outcome === 'already-reverted' ? [] : [action], {
        outcome: result.outcome,
        headBefore: result.headBefore,
        headAfter: result.headAfter,
        revertCommits: result.revertCommits,
        revertedBy: inspection.revertedBy,
        output: result.output,
      }),
    };
  });
}

export interface BuildValue {
  outcome: 'built' | 'planned';
  exitCode: number | null;
  durationMs: number;
}

/** rollback.3: the repository builds cleanly (`go build ./...` by default, exit code 0 required). */
export async function buildRepository(input: BuildInputRaw & StepInput): Promise<StepOutcome<BuildValue>> {
  const step = stepOf('buildRepository', input);
  const parsed = parseInput(BuildInputSchema, withoutStep(input));
  return translated(async () => {
    await checkWorkTree(parsed.repoPath);
    const action: Action = {
      kind: 'command',
      argv: parsed.buildCommand,
      cwd: parsed.repoPath,
      timeoutMs: parsed.buildTimeoutMs,
      ...(Object.keys(parsed.buildEnv).length ? { env: parsed.buildEnv } : {}),
    };
    if (parsed.plan) {
      return {
        value: { outcome: 'planned', exitCode: null, durationMs: 0 },
        evidence: evidence(step, 'planned', `Would run ${parsed.buildCommand.join(' ')} in ${parsed.repoPath} and require exit code 0.`, [
          action,
        ]),
      };
    }
    // translated() heartbeats while the build runs, so a worker crash is noticed by the heartbeat timeout.
    const build = await runBuild({
      repoPath: parsed.repoPath,
      argv: parsed.buildCommand,
      env: parsed.buildEnv,
      timeoutMs: parsed.buildTimeoutMs,
      signal: activitySignal(),
    });
    const wroteFiles = build.statusAfter.length > 0;
    return {
      value: { outcome: 'built', exitCode: build.exitCode, durationMs: build.durationMs },
      evidence: evidence(
        step,
        'ok',
        `${build.argv.join(' ')} exited 0 in ${Math.round(build.durationMs / 100) / 10} s${wroteFiles ? ' (it left files in the work tree, see statusAfter)' : ''}.`,
        [action],
        { exitCode: build.exitCode, durationMs: build.durationMs, outputTail: build.outputTail, statusAfter: build.statusAfter },
      ),
    };
  });
}
