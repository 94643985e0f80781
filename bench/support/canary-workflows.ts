/**
 * The canary workflow with scripted children for time-skipping tests: `enable`, `disable` and `codeRollback`
 * stand-ins that finish at once (or fail when their Pulse URL says so), so a test sees which children the
 * rollout started, with which input, without running every procedure's activities. The e2e test runs the real ones.
 */
import { ApplicationFailure, sleep } from '@temporalio/workflow';

export { canaryRollout } from '../../workflows/canary-rollout.js';

interface ChildInput {
  pulse: { url: string };
  plan?: boolean;
}

export async function enable(input: ChildInput): Promise<{ procedure: 'enable'; plan: boolean }> {
  // "slow" in the URL: the Enable takes half an hour (a wave still in flight when the parent wants to continue as new).
  if (input.pulse.url.includes('slow') && !input.plan) await sleep('30 minutes');
  if (input.pulse.url.includes('fail')) throw ApplicationFailure.nonRetryable('scripted enable failure', 'RestartFailed');
  return { procedure: 'enable', plan: !!input.plan };
}

export async function disable(input: ChildInput): Promise<{ procedure: 'disable'; pulseUrl: string }> {
  return { procedure: 'disable', pulseUrl: input.pulse.url };
}

export async function codeRollback(input: { range?: unknown }): Promise<{ procedure: 'code-rollback'; range: unknown }> {
  return { procedure: 'code-rollback', range: input.range };
}
