/**
 * The audit trail from history (src/audit): events built the way the server writes them, their payloads encrypted
 * with the real AES-GCM codec and a key file in a temp dir, read back through the decoder the CLI builds from its
 * client. Covers who (payload actor, actor header, Temporal identity, mismatches), what is a human action (client
 * starts, updates with their outcome, client signals, cancel and terminate; not child or continue-as-new starts, not
 * workflow-sent signals), the allow-listed facts (no webhook URL, masked tokens and JWTs), the filters and the three
 * renderings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { createKeyFile } from '../../src/temporal/codec-key-file.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { auditEventsFromHistory, decoderFor, pickFacts, type AuditEvent, type PayloadDecoder } from '../../src/audit/events.js';
import { matchesFilters, parseSince, visibilityQuery, workflowTypeOf } from '../../src/audit/collect.js';
import { renderAuditJson, renderAuditJsonl, renderAuditTable } from '../../src/audit/render.js';
import { auditFiltersFromFlags } from '../../src/cli/audit.js';
import { ACTOR_HEADER } from '../../src/identity/header.js';

type Event = proto.temporal.api.history.v1.IHistoryEvent;
/** As the server's history arrives: real protobuf messages (Long ids and times, bytes). */
const events = (objects: Array<Record<string, unknown>>): Event[] =>
  objects.map((o) => proto.temporal.api.history.v1.HistoryEvent.fromObject(o));

const SLACK = 'https://hooks.slack.example/services/T000/B000/XXXXSECRETXXXX';
const PASTED = 'sk_live_9f8e7d6c5b4a39281706f5e4';
const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJvbGdhIn0.c2lnbmF0dXJlLXZhbHVl';

let dir: string;
let encode: (value: unknown) => Promise<Payload>;
let decode: PayloadDecoder;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'audit-'));
  const { codec } = loadCodec(createKeyFile(path.join(dir, 'keys.json')).path);
  encode = async (value) => (await codec.encode([defaultPayloadConverter.toPayload(value)]))[0];
  decode = decoderFor({ payloadCodecs: [codec], payloadConverter: defaultPayloadConverter });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (iso: string) => ({ seconds: Math.floor(Date.parse(iso) / 1000), nanos: (Date.parse(iso) % 1000) * 1e6 });
const header = (actor: string, actorSource: string, extra: Record<string, unknown> = {}) => ({
  fields: { [ACTOR_HEADER]: defaultPayloadConverter.toPayload({ actor, actorSource, ...extra }) },
});
const run = { workflowId: 'incident-42', runId: 'run-1', workflowType: 'incident' };

async function incidentHistory(): Promise<Event[]> {
  return events([
    {
      eventId: 1,
      eventTime: at('2026-11-26T08:00:00Z'),
      workflowExecutionStartedEventAttributes: {
        identity: 'pulse-runbook:olga@ops-1',
        header: header('olga', 'token', { tokenId: 'jti-olga' }),
        input: {
          payloads: [
            await encode({
              title: 'TrueNAS data stale',
              openedBy: 'olga',
              openedBySource: 'token',
              impacts: ['degraded-functionality'],
              notify: { webhooks: [{ name: 'ops-chat', url: SLACK }] },
            }),
          ],
        },
      },
    },
    { eventId: 2, eventTime: at('2026-11-26T08:00:01Z'), workflowTaskScheduledEventAttributes: {} },
    {
      eventId: 5,
      eventTime: at('2026-11-26T08:01:00Z'),
      workflowExecutionUpdateAcceptedEventAttributes: {
        protocolInstanceId: 'u-1',
        acceptedRequest: {
          meta: { updateId: 'u-1', identity: 'pulse-runbook:olga@ops-1' },
          input: {
            name: 'recordAction',
            header: header('olga', 'token'),
            args: {
              payloads: [
                await encode({
                  actor: 'olga',
                  actorSource: 'token',
                  summary: `rotated the key, token=${PASTED} revoked`,
                  evidence: { links: ['https://tickets.example/7'], details: { token: PASTED, host: 'nas-1' } },
                }),
              ],
            },
          },
        },
      },
    },
    {
      eventId: 6,
      eventTime: at('2026-11-26T08:01:00.500Z'),
      workflowExecutionUpdateCompletedEventAttributes: {
        meta: { updateId: 'u-1' },
        outcome: {
          success: {
            payloads: [
              await encode({
                at: '2026-11-26T08:01:00.000Z',
                status: 'acknowledged',
                severity: 'P2',
                owner: 'Pulse Operations',
                actionIndex: 0,
              }),
            ],
          },
        },
      },
    },
    {
      eventId: 9,
      eventTime: at('2026-11-26T08:02:00Z'),
      workflowExecutionUpdateAcceptedEventAttributes: {
        acceptedRequest: {
          // A raw SDK client: no actor header, its own identity, and a payload naming someone else.
          meta: { updateId: 'u-2', identity: 'pulse-runbook:mallory@laptop' },
          input: {
            name: 'handoff',
            args: { payloads: [await encode({ actor: 'olga', to: 'Engineering', reason: `handing over ${JWT}` })] },
          },
        },
      },
    },
    {
      eventId: 10,
      eventTime: at('2026-11-26T08:02:01Z'),
      workflowExecutionUpdateCompletedEventAttributes: {
        meta: { updateId: 'u-2' },
        outcome: {
          failure: {
            message: 'Encoded failure',
            encodedAttributes: await encode({ message: 'handoff failed halfway', stack_trace: 'at x' }),
            applicationFailureInfo: { type: 'IncidentUpdateRefused' },
          },
        },
      },
    },
    {
      eventId: 11,
      eventTime: at('2026-11-26T08:03:00Z'),
      workflowExecutionUpdateAcceptedEventAttributes: {
        acceptedRequest: {
          meta: { updateId: 'u-3', identity: 'pulse-runbook:eli@eng-2' },
          input: {
            name: 'resolve',
            header: header('eli', 'claimed'),
            args: { payloads: [await encode({ actor: 'eli', finalOwner: 'Engineering', summary: 'poller fixed' })] },
          },
        },
      },
    },
    {
      eventId: 12,
      eventTime: at('2026-11-26T08:04:00Z'),
      workflowExecutionSignaledEventAttributes: {
        signalName: 'stop',
        identity: 'pulse-runbook:sam@ops-1',
        header: header('sam', 'os-user'),
        input: { payloads: [await encode({ reason: 'stopped from the CLI' })] },
      },
    },
    // Sent by another workflow: not a person's action.
    {
      eventId: 13,
      eventTime: at('2026-11-26T08:04:30Z'),
      workflowExecutionSignaledEventAttributes: {
        signalName: 'link',
        identity: '1@worker',
        externalWorkflowExecution: { workflowId: 'kill-switch-1' },
      },
    },
    {
      eventId: 14,
      eventTime: at('2026-11-26T08:05:00Z'),
      workflowExecutionTerminatedEventAttributes: { identity: 'webui-admin', reason: 'drill over' },
    },
  ]);
}

describe('events from one run', () => {
  let trail: AuditEvent[];
  beforeAll(async () => {
    trail = await auditEventsFromHistory(await incidentHistory(), run, decode);
  });

  it('lists the human actions in order, decoded through the codec', () => {
    expect(trail.map((e) => `${e.at} ${e.action} ${e.actor} (${e.actorSource}) ${e.outcome}`)).toEqual([
      '2026-11-26T08:00:00.000Z start olga (token) terminated',
      '2026-11-26T08:01:00.000Z update:recordAction olga (token) completed',
      '2026-11-26T08:02:00.000Z update:handoff olga (unknown) failed',
      '2026-11-26T08:03:00.000Z update:resolve eli (claimed) accepted',
      '2026-11-26T08:04:00.000Z signal:stop sam (os-user) recorded',
      '2026-11-26T08:05:00.000Z terminate webui-admin (unknown) recorded',
    ]);
    for (const e of trail) expect(e).toMatchObject({ workflowId: 'incident-42', runId: 'run-1', workflowType: 'incident' });
    expect(trail[0]).toMatchObject({ identity: 'pulse-runbook:olga@ops-1', tokenId: 'jti-olga' });
  });

  it('keeps the allow-listed facts and the answer, never the webhook URL or a pasted secret', () => {
    expect(trail[0].facts).toEqual({ title: 'TrueNAS data stale', impacts: ['degraded-functionality'] });
    expect(trail[1].facts).toEqual({
      summary: 'rotated the key, token=******** revoked',
      links: ['https://tickets.example/7'],
      details: { token: '********', host: 'nas-1' },
      result: { status: 'acknowledged', severity: 'P2', owner: 'Pulse Operations', actionIndex: 0 },
    });
    expect(trail[1].completedAt).toBe('2026-11-26T08:01:00.500Z');
    expect(trail[1].evidence).toBe(
      'summary: rotated the key, token=******** revoked; links: https://tickets.example/7; details: {"token":"********","host":"nas-1"}; → status acknowledged, severity P2, owner Pulse Operations, actionIndex 0',
    );
    const all = JSON.stringify(trail);
    expect(all).not.toContain('hooks.slack.example');
    expect(all).not.toContain(JWT);
    expect(all).not.toContain(PASTED);
    expect(trail[2].facts.reason).toBe('handing over ********');
  });

  it('shows a failed update with its decoded failure, and flags a payload that names someone other than the sender', () => {
    expect(trail[2].facts.failure).toBe('IncidentUpdateRefused: handoff failed halfway');
    expect(trail[2].actorMismatch).toEqual({ payload: 'olga', sender: 'mallory' });
    expect(trail[3].actorMismatch).toBeUndefined();
    expect(trail[3].completedAt).toBeUndefined();
  });

  it('skips starts that a workflow made (children, continue-as-new)', async () => {
    const child = events([
      {
        eventId: 1,
        eventTime: at('2026-11-26T09:00:00Z'),
        workflowExecutionStartedEventAttributes: {
          identity: '1@worker',
          parentWorkflowExecution: { workflowId: 'incident-42' },
          input: { payloads: [await encode({ plan: false })] },
        },
      },
    ]);
    const continued = events([
      {
        eventId: 1,
        eventTime: at('2026-11-26T09:00:00Z'),
        workflowExecutionStartedEventAttributes: { identity: '1@worker', continuedExecutionRunId: 'run-0' },
      },
    ]);
    expect(await auditEventsFromHistory(child, run, decode)).toEqual([]);
    expect(await auditEventsFromHistory(continued, run, decode)).toEqual([]);
  });

  it('says so when a payload cannot be decoded (a key removed from the key file)', async () => {
    const { codec: otherCodec } = loadCodec(createKeyFile(path.join(dir, 'other.json')).path);
    const foreign = (await otherCodec.encode([defaultPayloadConverter.toPayload({ actor: 'olga', summary: 'x' })]))[0];
    const [e] = await auditEventsFromHistory(
      events([
        {
          eventId: 3,
          eventTime: at('2026-11-26T10:00:00Z'),
          workflowExecutionUpdateAcceptedEventAttributes: {
            acceptedRequest: {
              meta: { updateId: 'u', identity: 'pulse-runbook:olga@h' },
              input: { name: 'acknowledge', args: { payloads: [foreign] } },
            },
          },
        },
      ]),
      run,
      decode,
    );
    expect(e.actor).toBe('olga'); // from the identity, as the payload is unreadable
    expect(e.outcome).toBe('accepted');
    expect(e.facts.undecodable).toMatch(/key id "[^"]+", which is not in /);
  });
});

describe('how each run ended (the OUTCOME of its start)', () => {
  const started = async (input: unknown) => ({
    eventId: 1,
    eventTime: at('2026-11-26T09:00:00Z'),
    workflowExecutionStartedEventAttributes: {
      identity: 'pulse-runbook:sam@h',
      header: header('sam', 'os-user'),
      input: { payloads: [await encode(input)] },
    },
  });
  const outcomeOf = async (close: Record<string, unknown> | undefined, input: unknown = { plan: false }) => {
    const history = events([await started(input), ...(close ? [{ eventId: 9, eventTime: at('2026-11-26T09:05:00Z'), ...close }] : [])]);
    const [start] = await auditEventsFromHistory(history, { workflowId: 'w', runId: 'r', workflowType: 'enable' }, decode);
    return start;
  };

  it('completed, planned, aborted (with its reason), failed (with its message), running, terminated, continued-as-new', async () => {
    const completed = async (result: unknown) => ({
      workflowExecutionCompletedEventAttributes: { result: { payloads: [await encode(result)] } },
    });
    expect((await outcomeOf(await completed({ procedure: 'enable', plan: false }))).outcome).toBe('completed');
    expect((await outcomeOf(await completed({ procedure: 'enable', plan: true }))).outcome).toBe('planned');
    const aborted = await outcomeOf(
      await completed({
        procedure: 'canary-rollout',
        plan: false,
        outcome: 'aborted',
        abort: { criterion: 'abort.1', reason: 'failure ratio 0.8 > 0.5' },
      }),
    );
    expect(aborted.outcome).toBe('aborted');
    expect(aborted.evidence).toContain('aborted: failure ratio 0.8 > 0.5');
    const failed = await outcomeOf({
      workflowExecutionFailedEventAttributes: {
        failure: { message: 'The connection test failed: status=401', applicationFailureInfo: { type: 'ConnectionTestFailed' } },
      },
    });
    expect(failed.outcome).toBe('failed');
    expect(failed.evidence).toContain('failed: ConnectionTestFailed: The connection test failed: status=401');
    expect((await outcomeOf(undefined)).outcome).toBe('running');
    expect((await outcomeOf({ workflowExecutionTerminatedEventAttributes: { identity: 'x', reason: 'drill' } })).outcome).toBe(
      'terminated',
    );
    expect((await outcomeOf({ workflowExecutionContinuedAsNewEventAttributes: {} })).outcome).toBe('continued-as-new');
    expect(renderAuditTable([failed])).toMatch(/\n\S+\s+sam \(os-user\)\s+start\s+w \(enable\)\s+failed\s+/);
  });
});

describe('facts', () => {
  it('takes only names it knows, with nested ones flattened', () => {
    expect(
      pickFacts({
        actor: 'olga',
        phase: 'containment',
        summary: 'kill switch',
        procedure: { name: 'kill-switch', input: { pulse: { url: 'http://pulse:7655', token: { env: 'PULSE_TOKEN' } } } },
        pulse: { url: 'http://admin:hunter2@pulse:7655', token: { file: '/run/secrets/t' } },
        instance: { name: 'dev-1', disable: { host: { envFile: '/etc/pulse.env' } } },
        rollback: { repo: 'https://user:pat@git.example/pulse.git' },
      }),
    ).toEqual({
      summary: 'kill switch',
      phase: 'containment',
      instance: 'dev-1',
      procedure: 'kill-switch',
      pulseUrl: 'http://********@pulse:7655',
    });
  });
});

describe('filters and flags', () => {
  const now = new Date('2026-11-26T12:00:00Z');

  it('--since takes a duration back from now or an ISO time; --procedure a name or a workflow type', () => {
    expect(parseSince('24h', now).toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parseSince('30m', now).toISOString()).toBe('2026-11-26T11:30:00.000Z');
    expect(parseSince('2026-11-20', now).toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(parseSince('2026-11-20T08:00:00Z', now).toISOString()).toBe('2026-11-20T08:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(/audit --since yesterday: must be an ISO date or time/);
    expect(workflowTypeOf('kill-switch')).toBe('killSwitch');
    expect(workflowTypeOf('canary')).toBe('canaryRollout');
    expect(workflowTypeOf('codeRollback')).toBe('codeRollback');
    expect(() => workflowTypeOf('reboot')).toThrow('audit --procedure reboot: unknown; give one of kill-switch, enable, disable');
  });

  it('builds the visibility query: the runbook types, a workflow id, runs open since --since', () => {
    expect(visibilityQuery({ procedure: 'incident', workflowId: "incident-o'brien", since: new Date('2026-11-26T00:00:00Z') })).toBe(
      "WorkflowType = 'incident' AND WorkflowId = 'incident-o\\'brien' AND (ExecutionStatus = 'Running' OR CloseTime >= '2026-11-26T00:00:00.000Z')",
    );
    expect(visibilityQuery({})).toMatch(
      /^WorkflowType IN \('killSwitch', 'enable', 'disable', 'codeRollback', 'dataCleanup', 'incident', 'alertMonitor', 'canaryRollout'\)$/,
    );
  });

  it('filters events by time and actor (the recorded one or the sender)', () => {
    const e = { at: '2026-11-26T08:00:00.000Z', actor: 'olga', actorMismatch: { payload: 'olga', sender: 'mallory' } } as AuditEvent;
    expect(matchesFilters(e, { since: new Date('2026-11-26T07:00:00Z') })).toBe(true);
    expect(matchesFilters(e, { since: new Date('2026-11-26T09:00:00Z') })).toBe(false);
    expect(matchesFilters(e, { actor: 'olga' })).toBe(true);
    expect(matchesFilters(e, { actor: 'mallory' })).toBe(true);
    expect(matchesFilters(e, { actor: 'sam' })).toBe(false);
  });

  it('checks the CLI flags before Temporal is contacted, naming the flag', () => {
    expect(auditFiltersFromFlags({ since: '1h', json: true, maxRuns: 10 }, now)).toEqual({
      filters: { since: new Date('2026-11-26T11:00:00Z'), maxRuns: 10 },
      format: 'json',
    });
    expect(auditFiltersFromFlags({ jsonl: true, procedure: 'canary', actor: 'sam', maxRuns: 500 }, now).format).toBe('jsonl');
    expect(() => auditFiltersFromFlags({ json: true, jsonl: true, maxRuns: 1 })).toThrow('audit --json / --jsonl: give one of them');
    expect(() => auditFiltersFromFlags({ maxRuns: 0 })).toThrow('audit --max-runs: must be a whole number of at least 1');
    expect(() => auditFiltersFromFlags({ procedure: 'reboot', maxRuns: 1 })).toThrow(/audit --procedure reboot: unknown/);
  });
});

describe('rendering', () => {
  let trail: AuditEvent[];
  beforeAll(async () => {
    trail = await auditEventsFromHistory(await incidentHistory(), run, decode);
  });

  it('a table with one row per action and the evidence cut to the width', () => {
    const table = renderAuditTable(trail, { evidenceWidth: 40 });
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+ACTOR \(SOURCE\)\s+ACTION\s+WORKFLOW\s+OUTCOME\s+EVIDENCE$/);
    expect(lines).toHaveLength(trail.length + 1);
    expect(lines[1]).toMatch(
      /^2026-11-26T08:00:00Z\s+olga \(token\)\s+start\s+incident-42 \(incident\)\s+terminated\s+title: TrueNAS data stale; impacts: deg…$/,
    );
    expect(lines[1].split(/ {2,}/).at(-1)).toHaveLength(40);
    expect(lines[3]).toContain('olga (unknown) [sent by mallory]');
    expect(lines[3]).toContain('failed');
    expect(renderAuditTable([])).toBe('No recorded actions match.\n');
  });

  it('JSON is an array of the events; JSONL is one complete event per line', () => {
    expect(JSON.parse(renderAuditJson(trail))).toEqual(JSON.parse(JSON.stringify(trail)));
    const lines = renderAuditJsonl(trail).trimEnd().split('\n');
    expect(lines).toHaveLength(trail.length);
    expect(lines.map((l) => JSON.parse(l).action)).toEqual(trail.map((e) => e.action));
  });
});
