/**
 * `pulse-runbook audit` on the real dev server with encrypted history: people act through the real CLI (test/support/cli-host.ts)
 * under a token policy (Ed25519 key, tokens issued per person) and once without one (a claimed --actor); an
 * incident with roles is opened, acknowledged, worked on, handed off, refused a resolution outside the final
 * owner's role and resolved; a canary rollout (Prometheus a closed port, short durations) gets its staging
 * confirmation and is aborted. `audit --jsonl` then lists exactly those actions, in order, with actors, how they
 * were determined, the Temporal identity and times, decoded through the codec; it contains no secret (no pasted
 * token, no identity token, no codec or identity key). Without the codec key the same trail still names the
 * actors (header and identity are not encrypted) but shows none of what they wrote.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli-host.js';
import { createKeyFile } from '../../src/temporal/codec-key-file.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { generateIdentityKey, readIdentityKey } from '../../src/identity/key.js';
import { issueIdentityToken } from '../../src/identity/token.js';
import type { AuditEvent } from '../../src/audit/events.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { writeShortRolloutFile } from '../../bench/support/canary.js';
import { temporalAddress, temporalHarness, uniqueId, type TemporalHarness } from '../support/e2e.js';

const PASTED = 'sk_live_4b1d9e7c2a5f8e3d6c0b9a7f';

let temporal: TemporalHarness;
let dir: string;
let keysFile: string;
let identityPub: string;
let identityPriv: string;
const tokens: Record<string, string> = {};
let closedPort: number;

/** The CLI as `who` runs it: under the token policy with their own token, or (who = undefined) without a policy. */
function cli(args: string[], who?: string, env: Record<string, string> = {}) {
  return runCli(args, {
    timeoutMs: 60_000,
    env: {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: temporal.taskQueue,
      TEMPORAL_NAMESPACE: 'default',
      PULSE_RUNBOOKS_CONFIG: '',
      PULSE_URL: '',
      PULSE_TOKEN: '',
      PULSE_RUNBOOKS_CODEC_KEYS_FILE: keysFile,
      PULSE_RUNBOOKS_IDENTITY_KEY_FILE: who ? identityPub : '',
      PULSE_RUNBOOKS_IDENTITY_TOKEN: who ? tokens[who] : '',
      PULSE_RUNBOOKS_IDENTITY_TOKEN_FILE: '',
      PULSE_RUNBOOKS_INCIDENT_ROLES_FILE: '',
      ...env,
    },
  });
}

async function ok(p: ReturnType<typeof cli>): Promise<string> {
  const r = await p;
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'audit-e2e-'));
  keysFile = createKeyFile(path.join(dir, 'codec-keys.json')).path;
  const made = generateIdentityKey(path.join(dir, 'identity.key'), 'EdDSA');
  identityPriv = made.path;
  identityPub = made.publicPath!;
  const key = readIdentityKey(identityPriv);
  for (const who of ['olga', 'ian', 'eli', 'sam']) tokens[who] = (await issueIdentityToken(key, { subject: who, ttlSeconds: 3600 })).token;
  closedPort = await freePort();
  temporal = await temporalHarness({ codec: loadCodec(keysFile).codec });
});
afterAll(async () => {
  await temporal?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('lists who did what and when across an incident and a canary, decoded, with no secret in it', async () => {
  const started = new Date();
  const incidentId = uniqueId('audit');
  const rollout = uniqueId('audit');
  const canaryId = `canary-${rollout}`;
  const host = hostname();

  await temporal.withWorker(async () => {
    // --- the incident, with roles
    await ok(
      cli(
        [
          'incident',
          'open',
          '--id',
          incidentId,
          '--title',
          'TrueNAS data stale on nas-1',
          '--impact',
          'degraded-functionality',
          '--role',
          'ops=olga,rita',
          '--role',
          'eng=eli',
          '--role',
          'ic=ian',
        ],
        'olga',
      ),
    );
    const id = `incident-${incidentId}`;
    await ok(cli(['incident', 'ack', id, '--note', 'looking'], 'olga'));
    // rita works without a token policy: her name is a claim.
    await ok(
      cli(
        [
          'incident',
          'action',
          id,
          '--actor',
          'rita',
          '--summary',
          `restarted the poller after rotating token=${PASTED}`,
          '--link',
          'https://tickets.example/42',
        ],
        undefined,
      ),
    );
    await ok(cli(['incident', 'handoff', id, '--to', 'eng', '--reason', 'needs a code fix'], 'ian'));
    const outside = await cli(['incident', 'resolve', id, '--final-owner', 'eng', '--summary', 'fixed'], 'olga');
    expect(outside.exitCode).toBe(1);
    expect(outside.stderr).toContain(
      "olga (Pulse Operations) may not resolve this incident: only members of the final resolution owner's role (Engineering) may; allowed now: Engineering: eli",
    );
    // Under the policy, --actor cannot make olga someone else.
    const impersonate = await cli(['incident', 'resolve', id, '--final-owner', 'eng', '--summary', 'fixed', '--actor', 'eli'], 'olga');
    expect(impersonate.exitCode).toBe(2);
    expect(impersonate.stderr).toContain('--actor eli: refused: your signed identity token says you are olga');
    await ok(cli(['incident', 'resolve', id, '--final-owner', 'eng', '--summary', 'poller fixed in v6.1.1'], 'eli'));

    // --- the canary: started, staging rollback confirmed, aborted
    await ok(
      cli(
        ['canary', 'start', '--rollout-file', writeShortRolloutFile(dir, closedPort), '--rollout', rollout, '--check-every', '1s'],
        'olga',
      ),
    );
    await ok(
      cli(['canary', 'confirm-staging-rollback', canaryId, '--evidence', 'staging disable run staging-disable-42 completed'], 'olga'),
    );
    await ok(cli(['canary', 'abort', canaryId, '--reason', 'error rate spike on dev-1'], 'sam'));
    await temporal.client.workflow.getHandle(canaryId).result();
  });

  // --- the trail (no worker needed: it is read from history)
  const jsonl = await ok(cli(['audit', '--jsonl', '--since', '15m'], 'sam'));
  const all = jsonl
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent);
  const mine = all.filter((e) => e.workflowId === `incident-${incidentId}` || e.workflowId === canaryId);
  expect(mine.map((e) => `${e.workflowType} ${e.action} ${e.actor} (${e.actorSource}) ${e.outcome}`)).toEqual([
    'incident start olga (token) completed',
    'incident update:acknowledge olga (token) completed',
    'incident update:recordAction rita (claimed) completed',
    'incident update:handoff ian (token) completed',
    'incident update:resolve eli (token) completed',
    'canaryRollout start olga (token) aborted',
    'canaryRollout update:confirmStagingRollback olga (token) completed',
    'canaryRollout update:abort sam (token) completed',
  ]);
  for (const e of mine) {
    expect(e.identity).toBe(`pulse-runbook:${e.actor}@${host}`);
    expect(Date.parse(e.at)).toBeGreaterThanOrEqual(started.getTime() - 1000);
    expect(Date.parse(e.at)).toBeLessThanOrEqual(Date.now());
    expect(e.actorMismatch).toBeUndefined();
  }
  const at = mine.map((e) => Date.parse(e.at));
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  expect(mine.filter((e) => e.actorSource === 'token').every((e) => typeof e.tokenId === 'string')).toBe(true);

  // What they wrote, decoded through the codec.
  const [open, ack, action, handoff, resolve, start, staging, abort] = mine;
  expect(open.facts).toMatchObject({
    title: 'TrueNAS data stale on nas-1',
    impacts: ['degraded-functionality'],
    roles: { 'Pulse Operations': ['olga', 'rita'], Engineering: ['eli'], 'incident-commander': ['ian'] },
  });
  expect(ack.facts).toMatchObject({ note: 'looking', result: { status: 'acknowledged' } });
  expect(action.facts).toMatchObject({
    summary: 'restarted the poller after rotating token=********',
    links: ['https://tickets.example/42'],
  });
  // As sent (the alias), and the owner it left, as the workflow answered.
  expect(handoff.evidence).toBe('reason: needs a code fix; to: eng; → status acknowledged, severity P2, owner Engineering');
  expect(resolve.facts).toMatchObject({
    finalOwner: 'eng',
    summary: 'poller fixed in v6.1.1',
    result: { status: 'resolved', owner: 'Engineering' },
  });
  expect(start.facts).toMatchObject({ rollout });
  expect(staging.facts).toMatchObject({
    evidence: 'staging disable run staging-disable-42 completed',
    result: { checklist: expect.stringMatching(/^\d\/5 checklist items ok$/) },
  });
  expect(abort.facts).toMatchObject({ reason: 'error rate spike on dev-1' });
  expect(abort.completedAt).toBeDefined();

  // No secret: not the pasted one, no identity token, no codec key, no identity key.
  const codecKeys = Object.values((JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: Record<string, string> }).keys);
  const pem = readFileSync(identityPriv, 'utf8').split('\n')[1];
  for (const secret of [PASTED, ...Object.values(tokens), ...codecKeys, pem]) expect(jsonl).not.toContain(secret);
  expect(jsonl).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);

  // Filters, the table for people, and the same trail read without the codec key (independent processes: together).
  const [table, procedure, blind] = await Promise.all([
    ok(cli(['audit', '--workflow-id', canaryId, '--actor', 'sam'], 'sam')),
    ok(cli(['audit', '--procedure', 'incident', '--since', '15m', '--json'], 'sam')),
    ok(cli(['audit', '--jsonl', '--workflow-id', canaryId], undefined, { PULSE_RUNBOOKS_CODEC_KEYS_FILE: '' })),
  ]);
  const rows = table.trimEnd().split('\n');
  expect(rows[0]).toMatch(/^TIME\s+ACTOR \(SOURCE\)\s+ACTION\s+WORKFLOW\s+OUTCOME\s+EVIDENCE$/);
  expect(rows).toHaveLength(2);
  expect(rows[1]).toMatch(
    new RegExp(`sam \\(token\\)\\s+update:abort\\s+${canaryId} \\(canaryRollout\\)\\s+completed\\s+reason: error rate spike on dev-1`),
  );
  expect((JSON.parse(procedure) as AuditEvent[]).every((e) => e.workflowType === 'incident')).toBe(true);

  // Without the codec key: the actors are still there (header and identity are plain), what they wrote is not.
  const blindEvents = blind
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent);
  expect(blindEvents.map((e) => `${e.action} ${e.actor} (${e.actorSource})`)).toEqual([
    'start olga (token)',
    'update:confirmStagingRollback olga (token)',
    'update:abort sam (token)',
  ]);
  expect(blind).not.toContain('error rate spike');
  expect(blindEvents[2].facts.undecodable).toEqual(expect.any(String));
});
