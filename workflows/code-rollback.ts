/**
 * Runbook §4, Code Rollback: revert the TrueNAS commit range, check the tree builds, restart Pulse on the
 * rebuilt code and verify the TrueNAS routes are gone; the frontend check (step 5) is a person's.
 *
 * Where this follows Pulse rather than the runbook text: the runbook's range f9680ef8^..687ecd79 is only the
 * default; it exists on the February development line alone (pulse-api.md §8.7), so rollback.1 proves the range
 * is in the checked-out history before anything changes, and says what to do when it is not.
 *
 * Idempotency: each step is one activity whose result Temporal records. A worker lost after the revert replays
 * that result from history; a revert attempt whose completion was lost is retried, and revertRange recognises
 * its own earlier commits ('already-reverted') instead of reverting twice. The build and the restart are safe to
 * repeat and are repeated only when their completion was never recorded.
 *
 * Escalation step 3: a rollback started on its own (not a plan) opens its incident record once rollback.1 has
 * shown the range can be reverted and before the revert (workflows/support/incident-link.ts). A rollback refused
 * at rollback.1 changed nothing and opens none: it was not executed.
 */
import type * as gitActivities from '../activities/git.js';
import type * as pulseActivities from '../activities/pulse-api.js';
import type * as restartActivities from '../activities/restart.js';
import { CodeRollbackInputSchema, type CodeRollbackInput, type CodeRollbackInputRaw } from '../src/config/code-rollback-input.js';
import { ROLLBACK_FAILURES } from '../src/config/rollback.js';
import type { StepId } from '../src/runbook/steps.js';
import { activityOptions } from './support/activity-options.js';
import { EvidenceLog } from './support/evidence-log.js';
import { linkIncidentRecord, reportFailureToIncident, reportOutcomeToIncident, stepsLeft } from './support/incident-link.js';
import { procedureDefinition, runProcedure, type ProcedureResultBase } from './support/procedure.js';
import { pulseActivitySeconds } from './support/pulse-activity-timeout.js';

export interface CodeRollbackResult extends ProcedureResultBase<'code-rollback'> {
  repoPath: string;
  /** The range as resolved in the repository (full ids), newest commit first. */
  range: { from: string; to: string; commits: Array<{ sha: string; subject: string }> };
  /** 'reverted' (this run made the commits), 'already-reverted' (an earlier run did) or 'planned'. */
  revert: { outcome: gitActivities.RevertOutcome; headBefore: string; headAfter: string; revertCommits: string[] };
  build?: { exitCode: number | null; durationMs: number };
  restarted: boolean;
  /** What GET /api/truenas/connections answered after the restart. */
  routes?: { answer: pulseActivities.RoutesAbsentAnswer; status: number };
  /** Steps left to a person, with what they must check. */
  humanSteps: Array<{ step: StepId; instruction: string }>;
  /** The incident record of this run (escalation.3). */
  incidentId?: string;
}

/** rollback.5: Pulse's UI has no API that says which badges render; a person looks. */
export const FRONTEND_CHECK =
  'Open the Pulse web UI (hard-refresh to drop cached assets) and check that TrueNAS-specific badges and filters no longer render; ' +
  'record what you saw in the incident record.';

/** The activities, each call's summary in the Web UI named after the runbook step it belongs to (`log`). */
function activitiesFor(input: CodeRollbackInput, log: EvidenceLog) {
  const git = log.activities<typeof gitActivities>(activityOptions(input.retry, input.gitTimeoutSeconds));
  const build = log.activities<typeof gitActivities>({
    // The build has its own timeout (killed when it passes); the activity gets a minute more to report it.
    ...activityOptions(input.retry, Math.ceil(input.buildTimeoutMs / 1000) + 60),
    // A lost worker is noticed by the missing heartbeat (every 10 s), not after the whole build timeout.
    heartbeatTimeout: `${input.buildHeartbeatTimeoutSeconds} seconds`,
  });
  const restart = log.activities<typeof restartActivities>(
    activityOptions(input.retry, Math.ceil((input.restart.commandTimeoutMs + input.restart.healthTimeoutMs) / 1000) + 30),
  );
  const pulse = log.activities<typeof pulseActivities>(activityOptions(input.retry, pulseActivitySeconds(input.pulse.timeoutMs)));
  return { git, build, restart, pulse };
}

const codeRollbackDefinition = procedureDefinition(
  'code-rollback',
  CodeRollbackInputSchema,
  ROLLBACK_FAILURES.invalidInput,
  'code rollback',
);

export async function codeRollback(raw: CodeRollbackInputRaw): Promise<CodeRollbackResult> {
  return runProcedure(codeRollbackDefinition, raw, ({ input, log, base }) => {
    const { git, build, restart, pulse } = activitiesFor(input, log);
    const range = { plan: input.plan, repoPath: input.repoPath, from: input.from, to: input.to };
    const result: CodeRollbackResult = {
      ...base,
      repoPath: input.repoPath,
      range: { from: input.from, to: input.to, commits: [] },
      revert: { outcome: 'planned', headBefore: '', headAfter: '', revertCommits: [] },
      restarted: false,
      humanSteps: [],
    };

    const steps = async () => {
      // Step 1: the right repository, a clean tree, and the range in HEAD's history (read-only, also in plan mode).
      log.begin('rollback.1');
      const validated = await git.validateRollbackRange({ ...range, step: 'rollback.1' });
      log.add(validated.evidence);
      result.range = { from: validated.value.from, to: validated.value.to, commits: validated.value.commits };

      // Escalation step 3, before the first change (behind a patch, so runs recorded before it replay).
      const incidentId = await linkIncidentRecord(log, 'code-rollback', {
        plan: input.plan,
        incident: input.incident,
        summary:
          `Code Rollback started on its own: reverting ${validated.value.commits.length} TrueNAS commit(s) ` +
          `${validated.value.from.slice(0, 12)}^..${validated.value.to.slice(0, 12)} in ${input.repoPath}, then rebuilding and restarting Pulse at ${input.pulse.url} (runbook §4).`,
      });
      if (incidentId) result.incidentId = incidentId;

      // Step 2: `git revert --no-edit <from>^..<to>`; a range an earlier attempt already reverted gives no new commit.
      log.begin('rollback.2', `git revert of ${validated.value.commits.length} commit(s)`);
      const reverted = await git.revertRange({ ...range, step: 'rollback.2' });
      log.add(reverted.evidence);
      const { outcome, headBefore, headAfter, revertCommits } = reverted.value;
      result.revert = { outcome, headBefore, headAfter, revertCommits };

      // Step 3: a conflict already aborted the revert above (RevertConflict, tree restored); here the tree must build.
      log.begin('rollback.3', `${input.buildCommand.join(' ')} (up to ${Math.round(input.buildTimeoutMs / 1000)} s)`);
      const built = await build.buildRepository({
        step: 'rollback.3',
        plan: input.plan,
        repoPath: input.repoPath,
        buildCommand: input.buildCommand,
        buildEnv: input.buildEnv,
        buildTimeoutMs: input.buildTimeoutMs,
      });
      log.add(built.evidence);
      if (!input.plan) result.build = { exitCode: built.value.exitCode, durationMs: built.value.durationMs };

      // Step 4: restart on the rebuilt code, then the TrueNAS routes must be gone.
      log.begin('rollback.4', `Pulse to restart and answer on ${input.restart.healthUrl ?? `${input.pulse.url}/api/health`}`);
      const restarted = await restart.restartPulse({
        plan: input.plan,
        restart: input.restart,
        prefix: input.prefix,
        pulseUrl: input.pulse.url,
        step: 'rollback.4',
      });
      log.add(restarted.evidence);
      result.restarted = !input.plan;
      const routes = await pulse.verifyTrueNASRoutesAbsent({ pulse: input.pulse, plan: input.plan, step: 'rollback.4' });
      log.add(routes.evidence);
      if (!input.plan) result.routes = routes.value;

      // Step 5: a person's check; recorded as such, never skipped silently.
      log.begin('rollback.5');
      log.note('rollback.5', 'human', `For a person: ${FRONTEND_CHECK}`, undefined, [{ kind: 'human', instruction: FRONTEND_CHECK }]);
      result.humanSteps.push({ step: 'rollback.5', instruction: FRONTEND_CHECK });

      await reportOutcomeToIncident(log, result.incidentId, {
        status: 'completed',
        message: `reverted ${result.revert.revertCommits.length} commit(s) (${result.revert.outcome}), built, restarted Pulse; the TrueNAS routes answer ${result.routes?.status ?? '?'}`,
        leftToDo: stepsLeft('rollback', log.progress.evidence),
      });
    };

    /** The incident record hears how the run ended. */
    const onFailure = async (err: unknown, failedStep: StepId | undefined) => {
      await reportFailureToIncident(log, result.incidentId, 'rollback', err, failedStep);
      return err;
    };
    return { result, steps, onFailure };
  });
}
