/**
 * Test-only workflow bundle entry for the incident tests (workflows/index.ts is the lead's): the real incident
 * and Kill-Switch workflows, plus two stand-ins:
 * - `disable`: a containment double that waits 30 s and asks the incident link whether to open an incident (it
 *   must not: it was started by one), so the tests do not depend on the real Disable procedure's hosts;
 * - `procedureWithIncident`: a procedure started on its own that opens its incident record the way Kill-Switch
 *   and Code Rollback will (behind patched()), twice, to prove the second call reuses the first record. It has no
 *   timer, so a test can await it with a plain client (no time skipping while an incident is open: the test
 *   server would skip to the incident's 10-year run timeout).
 */
import { sleep } from '@temporalio/workflow';
import type { LinkedProcedure } from '../../src/config/incident.js';
import { openIncidentForProcedure, type IncidentLink } from '../../workflows/support/incident-link.js';

export { incident } from '../../workflows/incident.js';
export { killSwitch } from '../../workflows/kill-switch.js';

export async function disable(input: {
  pulse: { url: string };
}): Promise<{ procedure: 'disable'; pulseUrl: string; link: Omit<IncidentLink, 'evidence'>; evidence: unknown[] }> {
  await sleep(30_000);
  const link = await openIncidentForProcedure('kill-switch', 'stand-in');
  return {
    procedure: 'disable',
    pulseUrl: input.pulse.url,
    link: { incidentId: link.incidentId, opened: link.opened },
    evidence: [link.evidence],
  };
}

export async function procedureWithIncident(
  procedure: LinkedProcedure,
  summary: string,
): Promise<{ first: IncidentLink; second: IncidentLink }> {
  const first = await openIncidentForProcedure(procedure, summary);
  const second = await openIncidentForProcedure(procedure, summary);
  return { first, second };
}
