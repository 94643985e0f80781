/**
 * Every client this program makes goes through one connect (src/client.ts), which adds who acts: the start demo's
 * and the rehearsal's runs carry an actor like the CLI's. Shown on the real dev server: a run started through it
 * records the client identity in its start event and the actor header that `audit` reads.
 */
import { hostname } from 'node:os';
import { connectClient } from '../../src/client.js';
import { readActorHeader } from '../../src/identity/header.js';
import type { Identity } from '../../src/identity/resolve.js';
import { temporalAddress, uniqueId } from '../support/e2e.js';
import { KILL_SWITCH_WORKFLOW } from '../../workflows/kill-switch.messages.js';

it('a run started through connectClient carries its actor in the start event', async () => {
  const identity: Identity = { actor: 'demo-operator', source: 'claimed', osUser: 'root', how: 'test', warnings: [] };
  const client = await connectClient({ address: temporalAddress(), namespace: 'default', identity });
  try {
    // No worker polls this queue: the run only has to be started to show what its start recorded.
    const handle = await client.workflow.start(KILL_SWITCH_WORKFLOW, {
      taskQueue: uniqueId('no-worker'),
      workflowId: uniqueId('client-identity'),
      args: [{}],
    });
    try {
      const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(started?.identity).toBe(`pulse-runbook:demo-operator@${hostname()}`);
      expect(readActorHeader(started?.header?.fields)).toMatchObject({ actor: 'demo-operator', actorSource: 'claimed' });
    } finally {
      await handle.terminate('test done');
    }
  } finally {
    await client.connection.close();
  }
});
