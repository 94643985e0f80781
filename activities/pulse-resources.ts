/**
 * Pulse's TrueNAS resources: one read for every procedure (Enable's enable.7, Disable's prereq.1 and disable.5,
 * Kill-Switch's kill-switch.5). The state is refreshed as the web UI does, every page of the resources is read and
 * they are judged the way the Pulse line allows: Pulse's own source status on v6, lastSeen arithmetic only on the
 * Feb line, which never marks the source stale (support/truenas-resources.ts). Read-only; runs in plan mode too.
 */
import { evidence, type Evidence, type StepOutcome } from '../src/runbook/evidence.js';
import type { StepId } from '../src/runbook/steps.js';
import { stepOf, type PulseStepInput } from './support/step.js';
import { describeResources, readTrueNASResources, resourceDetails, vanishedText, type ResourceView } from './support/truenas-resources.js';
import { withClient } from './support/with-pulse-client.js';

export type ResourceExpectation = 'present' | 'stale-or-gone' | 'report';

export type { ResourceView } from './support/truenas-resources.js';

export interface ResourceInspection {
  total: number;
  online: number;
  stale: number;
  offline: number;
  missing: number;
  endpoint: string;
  /** The Pulse line the resources route told (feb | v6). */
  line?: string;
  /** Up to 25 resources, for evidence (the counts cover all of them). */
  resources: ResourceView[];
}

export interface ResourcesInput extends PulseStepInput {
  step: StepId;
  staleThresholdSeconds: number;
  /** What the step waits for; the verdict says whether it is seen ('report': always ok). */
  expect: ResourceExpectation;
}

/**
 * Every TrueNAS resource, all pages, with the resource status and the TrueNAS source status the runbook's jq
 * prints, and the verdict of what the step expects.
 */
export async function inspectTrueNASResources(input: ResourcesInput): Promise<StepOutcome<ResourceInspection>> {
  return withClient(
    input.pulse,
    async (client) => {
      const read = await readTrueNASResources(client, input.pulse.url, input.staleThresholdSeconds);
      const { summary } = read;
      const value: ResourceInspection = {
        total: summary.total,
        online: summary.online,
        stale: summary.stale,
        offline: summary.offline,
        missing: summary.missing,
        endpoint: read.listing.endpoint,
        line: read.line.line,
        resources: read.views,
      };
      const seen = describeResources(read);
      let verdict: Evidence['verdict'] = 'ok';
      let meaning = '';
      if (input.expect === 'present') {
        verdict = summary.total > 0 ? 'ok' : 'inconclusive';
        meaning = summary.total > 0 ? ': TrueNAS resources appear' : ': none yet';
      } else if (input.expect === 'stale-or-gone') {
        verdict = summary.online === 0 ? 'ok' : 'inconclusive';
        meaning =
          summary.total === 0
            ? `: ${vanishedText(read)}`
            : summary.online === 0
              ? ': none reports fresh TrueNAS data any more'
              : `: ${summary.online} still report fresh TrueNAS data`;
      }
      const text = `${seen.charAt(0).toUpperCase()}${seen.slice(1)}${meaning}. ${read.how}`;
      return {
        value,
        evidence: evidence(
          input.step,
          input.plan ? 'planned' : verdict,
          input.plan ? `Now: ${text}` : text,
          read.actions,
          resourceDetails(read, input.staleThresholdSeconds),
        ),
      };
    },
    input.line,
  );
}

/**
 * The same read under the name the Kill-Switch has always scheduled (kill-switch.5): the name is in saved
 * histories and running Kill-Switches, so it stays registered. A run started before workflows passed `expect`
 * waits for the resources to be stale or gone.
 */
export async function checkTrueNASResources(
  input: Omit<ResourcesInput, 'step' | 'expect'> & { step?: StepId; expect?: ResourceExpectation },
): Promise<StepOutcome<ResourceInspection>> {
  return inspectTrueNASResources({ ...input, step: stepOf('checkTrueNASResources', input), expect: input.expect ?? 'stale-or-gone' });
}
