/**
 * Determinism guard: every saved history in test/histories/ must replay against today's workflow code.
 * A change that would break running workflows fails here and needs a `patched()` branch instead.
 * Record new histories with `npx tsx scripts/record-histories.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import protoUtils from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../bench/support/time-skipping.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';

const dir = path.resolve('test/histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('replay of saved histories', () => {
  beforeAll(() => quietRuntime());

  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const history = protoUtils.historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    // The workflow id the recorder used (scripts/record-histories.ts): a child's id is derived from it
    // (incident-for-<workflowId>), so a replay under another id would differ.
    // The runs of a continue-as-new chain (<name>.runN.json) share their workflow id.
    const workflowId = `recorded-${file.replace(/(\.run\d+)?\.json$/, '')}`;
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId)).resolves.toBeUndefined();
  });

  it.each(['kill-switch', 'code-rollback'])(
    '%s: histories from before and after the incident link both exist, so both code paths are proven to replay',
    (name) => {
      const events = (file: string): Array<{ eventType: string; markerRecordedEventAttributes?: { details?: Record<string, unknown> } }> =>
        JSON.parse(readFileSync(path.join(dir, file), 'utf8')).events;
      const kinds = (file: string) =>
        events(file)
          .map((e) => e.eventType)
          .filter((t) => /MARKER_RECORDED|CHILD_WORKFLOW_EXECUTION_STARTED/.test(t));
      expect(kinds(`${name}.json`)).toEqual([]);
      expect(kinds(`${name}-with-incident.json`)).toEqual(['EVENT_TYPE_MARKER_RECORDED', 'EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED']);
      const marker = events(`${name}-with-incident.json`).find((e) => e.markerRecordedEventAttributes)!;
      const patchId = (marker.markerRecordedEventAttributes!.details as Record<string, { payloads: Array<{ data: string }> }>)['patch-data']
        .payloads[0].data;
      expect(JSON.parse(Buffer.from(patchId, 'base64').toString())).toMatchObject({ id: 'open-incident-record' });
    },
  );

  it.each([
    ['kill-switch-with-outcome', 'report-outcome-to-incident'],
    ['code-rollback-failed-with-outcome', 'report-outcome-to-incident'],
    ['enable-failed-undone', 'enable-undo-on-failure'],
    ['kill-switch-parsed-input', 'kill-switch-parses-input'],
    ['canary-fleet.run1', 'canary-fleet'],
  ])('%s carries the %s patch, so the patched path is proven to replay (the older histories prove the other)', (name, patchId) => {
    const events: Array<{ markerRecordedEventAttributes?: { details?: Record<string, { payloads: Array<{ data: string }> }> } }> =
      JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')).events;
    const patches = events.flatMap((e) => {
      const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads[0]?.data;
      return data ? [JSON.parse(Buffer.from(data, 'base64').toString()).id as string] : [];
    });
    expect(patches).toContain(patchId);
  });

  it('the canary chain from before the fleet path carries no canary-fleet patch, so both paths are proven to replay', () => {
    const text = readFileSync(path.join(dir, 'canary-rollout.run1.json'), 'utf8');
    expect(text).not.toContain('MARKER_RECORDED');
    expect(readFileSync(path.join(dir, 'canary-fleet.run2.json'), 'utf8')).toContain('START_CHILD_WORKFLOW_EXECUTION_INITIATED');
  });

  it('detects a workflow that no longer matches its history', async () => {
    // The kill-switch history replayed as if its code skipped the deletes: the replay must fail.
    const raw = JSON.parse(readFileSync(path.join(dir, 'kill-switch.json'), 'utf8'));
    const events = raw.events.filter(
      (e: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }) =>
        e.activityTaskScheduledEventAttributes?.activityType?.name !== 'deleteConnection',
    );
    const renumbered = { events: events.map((e: object, i: number) => ({ ...e, eventId: String(i + 1) })) };
    const history = protoUtils.historyFromJSON(renumbered);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'tampered')).rejects.toThrow(
      /[Nn]ondeterminism/,
    );
  });
});
