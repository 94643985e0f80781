/**
 * Records workflow histories for the replay tests (test/histories/*.json). Run it before changing a workflow's
 * code, commit the files, and the replay test then proves the new code still replays the old runs (or that
 * a `patched()` branch is needed). Uses the real time-skipping server with scripted activities.
 *   npx tsx scripts/record-histories.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import protoUtils from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { startTimeSkipping, workflowBundle } from '../test/support/time-skipping.js';
import { KillSwitchInputSchema } from '../src/config/kill-switch.js';

const out = path.resolve('test/histories');
const env = await startTimeSkipping();
const ev = (step: string) => ({ step, at: new Date(0).toISOString(), verdict: 'ok', summary: 'recorded' });
let checks = 0;
const worker = await Worker.create({
  connection: env.nativeConnection,
  taskQueue: 'record',
  workflowBundle: await workflowBundle(),
  activities: {
    listConnections: async () => ({ value: { ids: ['c1', 'c2'], disabled: false }, evidence: ev('kill-switch.1') }),
    deleteConnection: async () => ({ value: { outcome: 'deleted' }, evidence: ev('kill-switch.2') }),
    verifyNoConnections: async () => ({ value: { remaining: [] }, evidence: ev('kill-switch.4') }),
    checkTrueNASResources: async () => {
      const gone = ++checks >= 3;
      return { value: { total: gone ? 0 : 2, online: gone ? 0 : 2, stale: 0, endpoint: '/api/v2/resources' }, evidence: ev('kill-switch.5') };
    },
  },
});
await worker.runUntil(async () => {
  const workflowId = 'recorded-kill-switch';
  const handle = await env.client.workflow.start('killSwitch', {
    taskQueue: 'record',
    workflowId,
    args: [KillSwitchInputSchema.parse({ pulse: { url: 'http://pulse.example:7655', token: { env: 'PULSE_TOKEN' } } })],
  });
  await handle.result();
  const history = await handle.fetchHistory();
  writeFileSync(path.join(out, 'kill-switch.json'), protoUtils.historyToJSON(history));
  console.log(`kill-switch: ${history.events?.length} events -> test/histories/kill-switch.json`);
});
await env.teardown();
