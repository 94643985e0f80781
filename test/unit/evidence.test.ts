/**
 * Activities build evidence one way (src/runbook/evidence.ts), and it is always redacted; the step it belongs to is
 * the workflow's, with the old step only for runs started before workflows passed it (activities/support/step.ts).
 */
import { evidence } from '../../src/runbook/evidence.js';
import { MASK } from '../../src/runbook/redact.js';
import { stepOf, withoutStep } from '../../activities/support/step.js';

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
