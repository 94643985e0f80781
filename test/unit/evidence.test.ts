/**
 * Activities build evidence one way (src/runbook/evidence.ts), and it is always redacted; the step it belongs to is
 * the workflow's, with the old step only for runs started before workflows passed it (activities/support/step.ts).
 */
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evidence, type Evidence } from '../../src/runbook/evidence.js';
import { MASK } from '../../src/runbook/redact.js';
import { stepOf, withoutStep } from '../../activities/support/step.js';
import { setFeatureFlag } from '../../activities/feature-flag.js';
import { checkPulseLogs, markLogPosition } from '../../activities/logs.js';
import { restartPulse } from '../../activities/restart.js';
import { tempDirEach } from '../support/temp-dir.js';

describe('evidence()', () => {
  it('masks every secret-named field of its details, however deep', () => {
    const e = evidence('enable.5', 'ok', 'Added connection c1.', [], {
      request: { host: 'nas', apiKey: 'k3y-value', nested: [{ password: 'pw-value' }] },
      status: 201,
    });
    expect(e.details).toEqual({ request: { host: 'nas', apiKey: MASK, nested: [{ password: MASK }] }, status: 201 });
    expect(JSON.stringify(e)).not.toMatch(/k3y-value|pw-value/);
    expect(e).toMatchObject({ step: 'enable.5', verdict: 'ok', summary: 'Added connection c1.', actions: [] });
    expect(Number.isNaN(Date.parse(e.at))).toBe(false);
  });

  it('leaves evidence without details without them', () => {
    expect(evidence('kill-switch.1', 'planned', 'Would list.', []).details).toBeUndefined();
  });
});

describe('the step of an activity', () => {
  it('is the one the workflow passed', () => {
    expect(stepOf('deleteConnection', { step: 'undo.enable' })).toBe('undo.enable');
    expect(stepOf('fingerprintEncryptionKey', { step: 'cleanup.6' })).toBe('cleanup.6');
  });

  it('falls back, for a run started before workflows passed it, to the step the activity always used', () => {
    expect(stepOf('deleteConnection', {})).toBe('kill-switch.2');
    expect(stepOf('checkTrueNASResources', undefined)).toBe('kill-switch.5');
    expect(stepOf('fingerprintEncryptionKey', {})).toBe('cleanup.7');
  });

  it('is taken out of the input a strict schema checks', () => {
    expect(withoutStep({ step: 'rollback.1' as const, repoPath: '/srv/pulse', plan: false })).toEqual({
      repoPath: '/srv/pulse',
      plan: false,
    });
  });
});

describe('the activities build evidence only through evidence()', () => {
  const ACTIVITIES = fileURLToPath(new URL('../../activities', import.meta.url));
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );

  it('no activity writes an evidence object literal (which would skip the redaction)', () => {
    const inline = files(ACTIVITIES).filter((f) => /\bevidence:\s*\{(?!\s*\.\.\.)/.test(readFileSync(f, 'utf8')));
    expect(inline).toEqual([]);
  });

  // The secrets an operator's files, logs and URLs hold: none of them may reach the evidence, and a field named
  // like a secret is masked wherever it stands.
  const SECRET = 'sk-live-9f8e7d6c5b4a39281706';
  const SECRET_KEY = /^(api[_-]?key|apikey|password|token|secret|authorization|x-api-token|x-setup-token|cookie)$/i;
  function expectNoSecret(e: Evidence): void {
    expect(JSON.stringify(e)).not.toContain(SECRET);
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, inner] of Object.entries(v)) {
          if (SECRET_KEY.test(k) && typeof inner === 'string' && inner !== '') expect(inner).toBe(MASK);
          walk(inner);
        }
    };
    walk(e);
  }

  const dir = tempDirEach('evidence-');

  it("setFeatureFlag: neither the plan nor the write shows the env file's other (secret) lines", async () => {
    const path = join(dir(), '.env');
    await fs.writeFile(path, `PULSE_API_TOKEN=${SECRET}\nPULSE_ENABLE_TRUENAS=false\n`);
    expectNoSecret((await setFeatureFlag({ plan: true, target: { kind: 'env-file', path }, value: 'true' })).evidence);
    expectNoSecret((await setFeatureFlag({ plan: false, target: { kind: 'env-file', path }, value: 'true' })).evidence);
  });

  it('markLogPosition and checkPulseLogs: a secret in a poller line is masked in the excerpt', async () => {
    const path = join(dir(), 'pulse.log');
    await fs.writeFile(path, '');
    const mark = await markLogPosition({ plan: false, source: { kind: 'file', path }, step: 'enable.4' });
    expectNoSecret(mark.evidence);
    await fs.appendFile(path, `[TrueNASPoller] Refresh failed for nas: sent Authorization: Bearer ${SECRET} apiKey=${SECRET}\n`);
    const input = { source: { kind: 'file' as const, path }, mark: mark.value, step: 'enable.4' as const, secrets: [SECRET] };
    expectNoSecret((await checkPulseLogs({ ...input, plan: true })).evidence);
    expectNoSecret((await checkPulseLogs({ ...input, plan: false, expect: 'poller-active' })).evidence);
  });

  it('restartPulse: the credentials of the Pulse URL stay out of the plan', async () => {
    const out = await restartPulse({
      plan: true,
      step: 'enable.2',
      pulseUrl: `http://admin:${SECRET}@127.0.0.1:7655/`,
      restart: { kind: 'command', argv: ['true'], healthTimeoutMs: 1000, healthIntervalMs: 100 },
    });
    expectNoSecret(out.evidence);
  });
});
