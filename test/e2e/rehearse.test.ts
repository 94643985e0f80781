/**
 * `pulse-runbook rehearse` as an operator runs it, against the emulator (a real Pulse is given with --pulse-source
 * or --pulse-binary; see the README): the real CLI process, its own worker on the suite's Temporal dev server, the
 * emulator run as a service with its flag in an env file. A refused key must fail Enable in Pulse's words and leave
 * nothing behind; then Enable → Kill-Switch → Enable → Disable → Data Cleanup all complete, the report has every
 * runbook step with times, and the emulator's own request log shows the rehearsal asked only Pulse's public API
 * (what a headless install answers), never the emulator's control API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { RehearsalReport } from '../../src/rehearse/report.js';
import { temporalAddress, uniqueId } from '../support/e2e.js';

const bin = path.resolve('bin/pulse-runbook.js');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rehearse-e2e-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PUBLIC_API =
  /^(GET \/api\/health|POST \/api\/security\/quick-setup|GET \/api\/state|GET \/api\/(v2\/)?resources|(GET|POST) \/api\/truenas\/connections|POST \/api\/truenas\/connections\/test|POST \/api\/truenas\/connections\/\{id\}\/test|DELETE \/api\/truenas\/connections\/\{id\})$/;

describe.each(['v6', 'feb'] as const)('rehearse against the emulator, profile %s', (profile) => {
  it('passes the refused-key case and the five procedures, with a per-step report, asking Pulse only what a headless install answers', async () => {
    const workDir = path.join(dir, `work-${profile}`);
    const reportDir = path.join(dir, `report-${profile}`);
    const run = await execa(
      process.execPath,
      [bin, 'rehearse', '--emulator-profile', profile, '--tick-seconds', '1', '--work-dir', workDir, '--report-dir', reportDir],
      {
        reject: false,
        timeout: 240_000,
        env: { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_TASK_QUEUE: uniqueId('rehearse'), PULSE_RUNBOOKS_CODEC_KEYS_FILE: '' },
      },
    );
    expect(run.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(
      /Rehearsal PASSED: enable \(refused key\) failed-as-expected, enable completed, kill-switch completed, enable \(again\) completed, disable completed, data-cleanup completed/,
    );

    const report = JSON.parse(readFileSync(path.join(reportDir, 'rehearsal.json'), 'utf8')) as RehearsalReport;
    expect(report.passed).toBe(true);
    expect(report.pulse.line).toBe(profile);
    expect(report.procedures.map((p) => p.outcome)).toEqual([
      'failed-as-expected',
      'completed',
      'completed',
      'completed',
      'completed',
      'completed',
    ]);
    const steps = (name: string) => report.procedures.find((p) => p.procedure === name)!.steps.map((s) => s.step);
    expect(steps('enable')).toEqual(['prereq.1', 'enable.1', 'enable.2', 'enable.3', 'enable.5', 'enable.6', 'enable.4', 'enable.7']);
    // escalation.3 twice: the record opened before the first delete, and told the outcome at the end.
    expect(steps('kill-switch')).toEqual([
      'escalation.3',
      'kill-switch.1',
      'kill-switch.2',
      'kill-switch.3',
      'kill-switch.4',
      'kill-switch.5',
      'kill-switch.6',
      'escalation.3',
    ]);
    const tick = report.procedures.find((p) => p.procedure === 'kill-switch')!.steps.find((s) => s.step === 'kill-switch.3')!;
    expect(tick.seconds).toBeGreaterThanOrEqual(0.9); // the poller tick (1 s here) is the step's own time
    expect(steps('disable')).toEqual(expect.arrayContaining(['disable.1', 'disable.2', 'disable.3', 'disable.4', 'disable.5']));
    expect(steps('data-cleanup')).toEqual(['cleanup.1', 'cleanup.2', 'cleanup.3', 'cleanup.4', 'cleanup.5', 'cleanup.6', 'cleanup.7']);
    // The refused key: the connection test failed in Pulse's words, and the undo left the flag off and nothing stored.
    const refused = report.procedures[0];
    expect(refused.error).toMatch(
      /^ConnectionTestFailed: .*status=401.*This means the NAS refused the API key.*Undone: deleted connection .*back to false; restarted Pulse once/,
    );
    expect(refused.steps.map((s) => s.step)).toContain('undo.enable');
    // Times: every step has them, and they add up within the procedure.
    for (const p of report.procedures) {
      for (const s of p.steps) expect(s.atSeconds).toBeLessThanOrEqual((p.seconds ?? 0) + 0.5);
    }
    const md = readFileSync(path.join(reportDir, 'rehearsal.md'), 'utf8');
    expect(md).toContain('# Rehearsal PASSED');
    expect(md).toMatch(/\| enable\.7 \| Verify TrueNAS resources appear \| ok \| [\d.]+ \| [\d.]+ \|/);

    // Headless: only Pulse's public API, no control call; resources always read after a state build.
    const asked = Object.keys(report.requests ?? {});
    expect(asked.length).toBeGreaterThan(5);
    expect(asked.filter((k) => !PUBLIC_API.test(k))).toEqual([]);
    expect(report.requests!['GET /api/state']).toBeGreaterThan(0);
    // Nothing left running: the service was stopped (its pid file goes with it).
    expect(() => readFileSync(path.join(workDir, 'pulse', 'pulse.pid'))).toThrow();
  });
});

describe('rehearse refuses bad flags before anything starts', () => {
  it.each([
    [['--pulse-source', '/x', '--pulse-binary', '/y'], /--pulse-binary: give --pulse-source or --pulse-binary, not both/],
    [['--pulse-binary', '/nonexistent/pulse'], /--pulse-binary \/nonexistent\/pulse: no such file/],
    [['--pulse-source', '/tmp'], /--pulse-source \/tmp: no go\.mod there; give the root of a Pulse checkout/],
    [['--emulator-profile', 'v7'], /--emulator-profile: must be feb or v6/],
    [['--pulse-binary', '/bin/true', '--tick-seconds', '1'], /--tick-seconds: is for the emulator only/],
  ])('%j', async (args, message) => {
    const run = await execa(
      process.execPath,
      [bin, 'rehearse', '--work-dir', path.join(dir, 'refused'), '--report-dir', path.join(dir, 'refused-report'), ...args],
      {
        reject: false,
        timeout: 60_000,
        env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      },
    );
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(() => readFileSync(path.join(dir, 'refused-report', 'rehearsal.json'))).toThrow();
  });
});
