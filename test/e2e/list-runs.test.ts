/**
 * Listing runs survives a memo this machine cannot decrypt: `incident list`, `canary list` and `audit` read the
 * visibility API through listRuns, so one run encrypted with another key (a dropped old key, another deployment's)
 * is listed with a memo error instead of failing the whole listing, as client.workflow.list() does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createKeyFile } from '../../src/temporal/codec-key-file.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { listRuns } from '../../src/temporal/list-runs.js';
import { temporalAddress, temporalHarness, uniqueId, type TemporalHarness } from '../support/e2e.js';
import { INCIDENT_WORKFLOW, type IncidentWorkflow } from '../../workflows/incident.messages.js';

let dir: string;
let harness: TemporalHarness;
let connection: Connection;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'list-runs-'));
  createKeyFile(join(dir, 'a.json'), { keyId: 'key-a' });
  createKeyFile(join(dir, 'b.json'), { keyId: 'key-b' });
  harness = await temporalHarness({ codec: loadCodec(join(dir, 'a.json')).codec });
  connection = await Connection.connect({ address: temporalAddress() });
});
afterAll(async () => {
  await harness?.close();
  await connection?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('lists a run whose memo is encrypted with another key, with the reason, where client.workflow.list() fails', async () => {
  const workflowId = uniqueId('list-runs-incident');
  // An incident in plan mode finishes at once; its memo (the incident summary) is encrypted with key-a.
  const handle = await harness.client.workflow.start<IncidentWorkflow>(INCIDENT_WORKFLOW, {
    taskQueue: harness.taskQueue,
    workflowId,
    args: [{ title: 'list-runs probe', openedBy: 'olga', impacts: ['cosmetic'], plan: true }],
    memo: { incident: { title: 'list-runs probe' } },
  });
  await harness.withWorker(() => handle.result());

  const query = `WorkflowId = '${workflowId}'`;
  const withKeyA = new Client({ connection, dataConverter: loadCodec(join(dir, 'a.json')).dataConverter });
  const withKeyB = new Client({ connection, dataConverter: loadCodec(join(dir, 'b.json')).dataConverter });
  const collect = async (client: Client) => {
    const rows = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      for await (const r of listRuns(client, query)) rows.push(r);
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    return rows;
  };

  const [a] = await collect(withKeyA);
  expect(a).toMatchObject({ workflowId, type: 'incident', status: 'COMPLETED', memo: { incident: { title: 'list-runs probe' } } });
  expect(a.searchAttributes.RunbookProcedure).toBe('incident');
  expect(a.memoError).toBeUndefined();

  const [b] = await collect(withKeyB);
  expect(b).toMatchObject({ workflowId, type: 'incident', memo: {} });
  expect(b.memoError).toMatch(/key id "key-a"/);

  // What the SDK's own listing does with the same run: the whole listing fails.
  const sdk = async () => {
    for await (const _ of withKeyB.workflow.list({ query })) void _;
  };
  await expect(sdk()).rejects.toThrow(/key-a/);
});
