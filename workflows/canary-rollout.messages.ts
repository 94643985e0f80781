/**
 * The canary rollout's contract: its type name, the status query and the updates people send. The CLI, tests and
 * the history recorder use these objects, never the names; renaming one breaks the build. The names are the ones
 * saved histories and running rollouts carry: never change them.
 *
 * Imported by clients and workflow code: @temporalio/workflow's definitions, types and constants only.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CanaryIssue, ChecklistItem, SignOff } from '../src/canary/state.js';
import type { CanaryStatus, InstanceDetail } from '../src/canary/status.js';
import type * as bundle from './index.js';

export const CANARY_ROLLOUT_WORKFLOW = 'canaryRollout' satisfies keyof typeof bundle;
export type CanaryRolloutWorkflow = (typeof bundle)[typeof CANARY_ROLLOUT_WORKFLOW];

export const canaryStatusQuery = defineQuery<CanaryStatus>('status');
/** One instance of a fleet in full (`canary status --instance NAME`). */
export const canaryInstanceQuery = defineQuery<InstanceDetail | undefined, [string]>('instance');

// Payloads are `unknown` on purpose: the validators parse them with the zod schemas in src/config/canary.ts.
export const signOffUpdate = defineUpdate<SignOff, [unknown]>('signOff');
export const abortUpdate = defineUpdate<{ accepted: true; at: string }, [unknown]>('abort');
export const reportIssueUpdate = defineUpdate<CanaryIssue, [unknown]>('reportIssue');
export const triageIssueUpdate = defineUpdate<CanaryIssue, [unknown]>('triageIssue');
export const resolveIssueUpdate = defineUpdate<CanaryIssue, [unknown]>('resolveIssue');
export const reportDataCorruptionUpdate = defineUpdate<{ accepted: true; at: string }, [unknown]>('reportDataCorruption');
export const confirmStagingRollbackUpdate = defineUpdate<ChecklistItem[], [unknown]>('confirmStagingRollback');
export const registerInstanceUpdate = defineUpdate<{ instances: string[]; total?: number }, [unknown]>('registerInstance');
export const recordDefaultOnReleaseUpdate = defineUpdate<{ version: string; commit: string }, [unknown]>('recordDefaultOnRelease');
export const pauseMonitoringUpdate = defineUpdate<{ paused: true; at: string }, [unknown]>('pauseMonitoring');
export const resumeMonitoringUpdate = defineUpdate<{ paused: false; at: string }, [unknown]>('resumeMonitoring');
export const completeUpdate = defineUpdate<{ completed: true; at: string }, [unknown]>('complete');

/** Every update by name, for callers that pick one (the CLI's commands, tests' helpers). */
export const CANARY_UPDATES = {
  signOff: signOffUpdate,
  abort: abortUpdate,
  reportIssue: reportIssueUpdate,
  triageIssue: triageIssueUpdate,
  resolveIssue: resolveIssueUpdate,
  reportDataCorruption: reportDataCorruptionUpdate,
  confirmStagingRollback: confirmStagingRollbackUpdate,
  registerInstance: registerInstanceUpdate,
  recordDefaultOnRelease: recordDefaultOnReleaseUpdate,
  pauseMonitoring: pauseMonitoringUpdate,
  resumeMonitoring: resumeMonitoringUpdate,
  complete: completeUpdate,
} as const;
export type CanaryUpdateName = keyof typeof CANARY_UPDATES;
/** What the update of that name answers. */
export type CanaryUpdateResult<N extends CanaryUpdateName> =
  (typeof CANARY_UPDATES)[N] extends UpdateDefinition<infer R, [unknown]> ? R : never;
