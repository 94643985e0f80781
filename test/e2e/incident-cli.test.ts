/**
 * `pulse-runbook incident ...` as a person runs it, against the real Temporal dev server and a real worker: open a
 * P1 whose (shortened) containment window passes, so it escalates on the real server; acknowledge; contain it by
 * running the real Kill-Switch against the Pulse emulator (a real process with two connections); hand off; record
 * an action with a pasted secret; be refused when resolving without a final owner; resolve; list; and export the
 * record as JSON and Markdown: every handoff, action and timestamp is there, and no secret.
 * The CLI is the real entry point (test/support/cli-host.ts: one long-lived process, the compiled build when it is up to date).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli-host.js';
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from '../../activities/index.js';
import { notifyIncidentWebhook } from '../../activities/incident-notify.js';
import type { IncidentRecord } from '../../src/incident/types.js';
import {
  pulseWithConnections,
  temporalAddress,
  temporalHarness,
  uniqueId,
  type PulseFixture,
  type TemporalHarness,
} from '../support/e2e.js';
import { incidentBundle, recordWhen } from '../support/incident.js';

const SECRET = 'sk_e2e_3c9f1d7a5b2e8c4f6a0d9b7e5c3a1f2d';

let temporal: TemporalHarness;
let native: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let fx: PulseFixture;
let hooks: Server;
let hookUrl: string;
let dir: string;
const posts: Array<{ kind: string; to: string }> = [];

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(['incident', ...args], {
    timeoutMs: 60_000,
    env: { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: temporal.taskQueue, PULSE_URL: '', PULSE_TOKEN: '', ...env },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'incident-e2e-'));
  hooks = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      posts.push(JSON.parse(data).incident);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
  temporal = await temporalHarness();
  native = await NativeConnection.connect({ address: temporalAddress() });
  worker = await Worker.create({
    connection: native,
    taskQueue: temporal.taskQueue,
    workflowBundle: await incidentBundle(),
    activities: { ...activities, notifyIncidentWebhook },
  });
  running = worker.run();
  fx = await pulseWithConnections(2);
});
afterAll(async () => {
  await fx?.stop();
  worker?.shutdown();
  await running;
  await native?.close();
  await temporal?.close();
  await new Promise((r) => hooks?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('pulse-runbook incident', () => {
  const id = uniqueId('incident-e2e');
  const handle = () => temporal.client.workflow.getHandle(id);

  it('refuses bad input at the edge, naming the flag', async () => {
    const noImpact = await cli(['open', '--title', 'x']);
    expect(noImpact.exitCode).toBe(2);
    expect(noImpact.stderr).toContain('incident open --impact: give at least one impact');
    const badZone = await cli(['open', '--title', 'x', '--impact', 'cosmetic', '--time-zone', 'Mars/Base']);
    expect(badZone.exitCode).toBe(2);
    expect(badZone.stderr).toContain('incident open --time-zone: must be an IANA time zone');
  });

  it('--plan classifies and routes without opening anything', async () => {
    const r = await cli(['open', '--plan', '--title', 'docs typo', '--impact', 'documentation', '--time-zone', 'Europe/Berlin']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('PLAN (nobody notified)');
    expect(r.stdout).toContain('P4 (documentation → P4');
    expect(r.stdout).toMatch(
      /Escalates to Engineering at \S+ unless resolved \(P4: escalate if unresolved by the next business day \(\w{3} \d{4}-\d\d-\d\d 09:00 Europe\/Berlin\)\)/,
    );
  });

  it('runs a P1 from open to resolved, escalating on the real server and containing with the real Kill-Switch', async () => {
    const open = await cli([
      'open',
      '--id',
      id,
      '--title',
      'TrueNAS poller hammering NAS',
      '--impact',
      'broad-outage',
      '--p1-minutes',
      '0.05',
      '--webhook',
      `chat=${hookUrl}`,
      '--actor',
      'alice',
    ]);
    expect(open.stderr).toBe('');
    expect(open.exitCode).toBe(0);
    expect(open.stdout).toContain(`Incident ${id} opened: P1`);
    expect(open.stdout).toContain('page Pulse Operations');
    expect(open.stdout).toContain('Escalates to Engineering at');

    // 0.05 min = 3 s without containment: the real server's timer escalates to Engineering.
    const escalated = await recordWhen(handle(), (r) => r.notifications.some((n) => n.kind === 'escalation'), 20_000);
    expect(escalated.owner).toBe('Engineering');

    expect((await cli(['ack', id, '--actor', 'bob', '--note', 'looking'])).exitCode).toBe(0);

    const inputFile = path.join(dir, 'kill-switch.json');
    writeFileSync(inputFile, JSON.stringify({ tickSeconds: 1, staleThresholdSeconds: 10, verifyEverySeconds: 0.5 }));
    const contain = await cli(
      [
        'contain',
        id,
        '--procedure',
        'kill-switch',
        '--input-file',
        inputFile,
        '--pulse-url',
        fx.emulator.url,
        '--token-env',
        fx.tokenEnv,
        '--actor',
        'bob',
      ],
      {
        [fx.tokenEnv]: fx.token,
      },
    );
    expect(contain.stderr).toBe('');
    expect(contain.exitCode).toBe(0);
    expect(contain.stdout).toContain(`started ${id}.kill-switch-1`);
    const contained = await recordWhen(
      handle(),
      (r) => r.actions.some((a) => a.child?.status === 'completed' || a.child?.status === 'failed'),
      60_000,
    );
    const child = contained.actions.find((a) => a.child)!.child!;
    expect(child.status).toBe('completed');
    expect((child.result!.deleted as string[]).sort()).toEqual([...fx.ids].sort());
    expect(await fx.pulse.listConnections()).toEqual([]);

    expect((await cli(['handoff', id, '--to', 'security', '--reason', 'key may have leaked', '--actor', 'bob'])).exitCode).toBe(0);
    const again = await cli(['handoff', id, '--to', 'Security Response Owner', '--actor', 'bob']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('to: Security Response Owner already owns this incident');
    expect((await cli(['handoff', id, '--to', 'eng', '--actor', 'sam'])).exitCode).toBe(0);

    const action = await cli([
      'action',
      id,
      '--summary',
      `rotated the API key (old token=${SECRET})`,
      '--detail',
      `apiKey=${SECRET}`,
      '--detail',
      'ticket=SEC-7',
      '--link',
      'https://tickets.example/SEC-7',
      '--actor',
      'carol',
    ]);
    expect(action.exitCode).toBe(0);

    const noOwner = await cli(['resolve', id, '--summary', 'done', '--actor', 'erin']);
    expect(noOwner.exitCode).toBe(2);
    expect(noOwner.stderr).toContain('incident resolve --final-owner: required: name an owner');

    const resolve = await cli([
      'resolve',
      id,
      '--final-owner',
      'eng',
      '--summary',
      'poll interval fixed, connections re-added',
      '--actor',
      'erin',
    ]);
    expect(resolve.stderr).toBe('');
    expect(resolve.stdout).toContain('now P1 resolved, owner Engineering');
    await handle().result();

    const late = await cli(['action', id, '--summary', 'late note']);
    expect(late.exitCode).toBe(1);
    expect(late.stderr).toMatch(/incident action: /);

    // The webhook heard the page, both notifications and the escalation.
    expect(posts.map((p) => `${p.kind} ${p.to}`).sort()).toEqual([
      'escalation Engineering',
      'notify Engineering',
      'notify Security Response Owner',
      'page Pulse Operations',
    ]);
  });

  it('lists the incident (visibility is eventually consistent)', async () => {
    let listed: Array<{ id: string; severity: string; status: string; owner: string }> = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !listed.some((r) => r.id === id && r.status === 'resolved')) {
      const r = await cli(['list', '--all', '--json']);
      expect(r.exitCode).toBe(0);
      listed = JSON.parse(r.stdout);
      if (!listed.some((x) => x.id === id && x.status === 'resolved')) await new Promise((res) => setTimeout(res, 200));
    }
    expect(listed.find((r) => r.id === id)).toMatchObject({ severity: 'P1', status: 'resolved', owner: 'Engineering' });
    const open = await cli(['list', '--json']);
    expect(JSON.parse(open.stdout).map((r: { id: string }) => r.id)).not.toContain(id);
  });

  it('reports the record as JSON and Markdown: every handoff, action and timestamp, and no secret', async () => {
    const out = path.join(dir, 'incident.json');
    const json = await cli(['report', id, '--format', 'json', '--out', out]);
    expect(json.exitCode).toBe(0);
    const text = readFileSync(out, 'utf8');
    const record: IncidentRecord = JSON.parse(text).incident;
    const md = await cli(['report', id]);
    expect(md.exitCode).toBe(0);

    expect(record.handoffs.map((h) => `${h.kind} ${h.from ?? '-'} → ${h.to} by ${h.by}`)).toEqual([
      'initial - → Pulse Operations by alice',
      'escalation Pulse Operations → Engineering by escalation-timer',
      'handoff Engineering → Security Response Owner by bob',
      'handoff Security Response Owner → Engineering by sam',
    ]);
    expect(record.actions.map((a) => `${a.kind} by ${a.by}`)).toEqual(['containment by bob', 'action by carol']);
    expect(record.acknowledged?.by).toBe('bob');
    expect(record.resolution).toMatchObject({ by: 'erin', finalOwner: 'Engineering' });
    for (const doc of [text, md.stdout]) {
      for (const h of record.handoffs) expect(doc).toContain(h.at);
      for (const a of record.actions) expect(doc).toContain(a.at);
      for (const u of record.updates) expect(doc).toContain(u.at);
      for (const n of record.notifications) expect(doc).toContain(n.at);
      expect(doc).toContain(record.resolution!.at);
      expect(doc).not.toContain(SECRET);
      expect(doc).not.toContain(fx.token);
      expect(doc).not.toContain(hookUrl);
    }
    expect(md.stdout).toContain('Final resolution owner: **Engineering**');
    expect(md.stdout).toContain('https://tickets.example/SEC-7');
    // The pasted secret never reached the workflow's history either: the CLI sanitizes before it sends.
    const history = JSON.stringify((await handle().fetchHistory()).events);
    expect(history).not.toContain(SECRET);
  });
});
