/**
 * `pulse-runbook canary simulate` as a person runs it: the real CLI process against a real Prometheus 2.42 holding
 * three days of one Pulse's series (backfilled: auth errors at hour 20, failed polls from hour 60), at the default
 * check every 60 s. It prints the timeline (the green clock's reset and why, the phase 1 gate opening at 48 h, phase 2,
 * abort criterion 1), writes the SVG chart and saves the range; with Prometheus gone, the saved range gives the same
 * answer. Bad flags are refused, naming the flag and the fix.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { SimulationResult } from '../../src/canary/simulate.js';
import { rolloutSeries } from '../../bench/support/canary-range.js';
import { backfill, startPrometheus, type PrometheusProcess } from '../../src/prometheus/local-server.js';

const bin = path.resolve('bin/pulse-runbook.js');
const START = Date.parse('2026-10-05T00:00:00Z') / 1000;
let prometheus: PrometheusProcess | undefined;
let remove: () => void;
let dir: string;
let rolloutFile: string;

const cli = (args: string[]) =>
  execa(process.execPath, [bin, 'canary', 'simulate', ...args], { reject: false, timeout: 120_000, env: { PULSE_RUNBOOKS_CONFIG: '' } });
const iso = (hours: number) => new Date((START + hours * 3600) * 1000).toISOString();

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'canary-simulate-cli-'));
  const tsdb = await backfill(
    rolloutSeries({
      start: START,
      hours: 72,
      pulses: [
        {
          faults: [
            { hour: 20, kind: 'A', polls: 3 },
            { hour: 60, kind: 'E', polls: 30 },
          ],
        },
      ],
    }),
  );
  remove = tsdb.remove;
  prometheus = await startPrometheus({ storagePath: tsdb.dir });
  rolloutFile = path.join(dir, 'rollout.json');
  writeFileSync(
    rolloutFile,
    JSON.stringify({
      rollout: 'oct',
      prometheus: { url: prometheus.url },
      approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
    }),
  );
}, 120_000);
afterAll(async () => {
  await prometheus?.stop();
  remove?.();
  rmSync(dir, { recursive: true, force: true });
});

it('prints the timeline, writes the chart, saves the range; the saved range answers the same without Prometheus', async () => {
  const range = path.join(dir, 'range.json');
  const svg = path.join(dir, 'clock.svg');
  const first = await cli(['--rollout-file', rolloutFile, '--from', iso(0), '--to', iso(72), '--save-range', range, '--svg', svg]);
  expect(first.stderr).toBe('');
  expect(first.exitCode).toBe(0);
  const out = first.stdout;
  expect(out).toContain(`Canary simulation of oct: ${iso(0)} to ${iso(72)} (3 d), a check every 60 s; `);
  expect(out).toMatch(/^TIME +PHASE +EVENT +DETAIL$/m);
  expect(out).toMatch(new RegExp(`^${iso(0).replace(/\./g, '\\.')} +1 +green clock starts +every monitoring checkpoint is green$`, 'm'));
  expect(out).toMatch(/^2026-10-05T20:0\d:00\.000Z +1 +auth-gate red +1 of 1 series > 0: value [1-3]$/m);
  expect(out).toMatch(/^2026-10-05T20:0\d:00\.000Z +1 +green clock reset +after 20 h( \d+ min)? green: not green: auth-gate: fail$/m);
  expect(out).toMatch(
    /^2026-10-07T00:00:00\.000Z +1 +phase 1 exit gate open +Phase 1 exit gate open: 48\.0 h in the phase, green for 2\d\.\d continuous hours; waiting for the sign-off\.$/m,
  );
  expect(out).toMatch(/^2026-10-07T00:00:00\.000Z +2 +phase 2 begins/m);
  expect(out).toMatch(
    /^2026-10-07T12:0\d:00\.000Z +2 +abort: canary\.abort\.1 +poll failure rate above 50 % across all connections for 300 s/m,
  );
  expect(out).toContain(
    'Phase 1: 2026-10-05T00:00:00.000Z to 2026-10-07T00:00:00.000Z (48 h); exit gate open at 2026-10-07T00:00:00.000Z, 48 h into the phase',
  );
  expect(out).toMatch(/^2026-10-07T12:0\d:00\.000Z +2 +green clock reset +after 3\d h( \d+ min)? green: not green: error-rate: fail$/m);
  expect(out).toContain('Green clock: reset 2 time(s)');
  expect(out).toMatch(
    /^Phase 2: 2026-10-07T00:00:00\.000Z to 2026-10-07T12:0\d:00\.000Z \(aborted\) \(12 h \d+ min\); exit gate never opened$/m,
  );
  expect(out).toMatch(/^Abort: canary\.abort\.1 at 2026-10-07T12:0\d:00\.000Z in phase 2: /m);
  expect(out).toMatch(new RegExp(`^Simulated in \\d+\\.\\d s; series saved to ${range.replace(/[.]/g, '\\.')}; chart written to `, 'm'));
  const chart = readFileSync(svg, 'utf8');
  expect(chart).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  expect(chart.match(/<g class="phase-\d">/g)).toEqual(['<g class="phase-1">', '<g class="phase-2">']);
  expect(chart).toContain('24 h needed');
  expect(chart).toContain('canary.abort.1 2026-10-07T12:0');

  await prometheus!.stop();
  prometheus = undefined;
  const again = await cli(['--rollout-file', rolloutFile, '--range-file', range, '--json']);
  expect(again.exitCode).toBe(0);
  const result = JSON.parse(again.stdout) as SimulationResult;
  expect(result.from).toBe(iso(0));
  expect(result.source).toMatch(/range\.json \(saved .* from http:\/\/127\.0\.0\.1:\d+ \(query_range\)\)$/);
  const table = out
    .split('\n')
    .filter((l) => /^2026-/.test(l))
    .map((l) => l.split(/ {2,}/).slice(0, 3).join(' | '));
  expect(result.events.map((e) => `${e.at} | ${e.phase} | ${e.what}`)).toEqual(table);
  expect(result.abort?.criterion).toBe('canary.abort.1');
});

it('refuses bad flags, naming the flag and the fix', async () => {
  const noFrom = await cli(['--rollout-file', rolloutFile]);
  expect(noFrom.exitCode).toBe(2);
  expect(noFrom.stderr).toMatch(
    /canary simulate --from: required when reading Prometheus; give the rollout start, e\.g\. --from 2026-11-01T00:00:00Z or --from -21d/,
  );
  const both = await cli(['--rollout-file', rolloutFile, '--range-file', 'a.json', '--save-range', 'b.json']);
  expect(both.stderr).toMatch(/give --range-file \(read saved series\) or --save-range \(save what Prometheus answers\), not both/);
  const badTime = await cli(['--rollout-file', rolloutFile, '--from', 'yesterday']);
  expect(badTime.stderr).toMatch(
    /--from yesterday: must be an ISO time \(2026-11-01T00:00:00Z\), "now", or now minus a duration \(-21d, -36h\)/,
  );
  const noFile = await cli(['--rollout-file', rolloutFile, '--range-file', path.join(dir, 'missing.json')]);
  expect(noFile.stderr).toMatch(/--range-file .*missing\.json: cannot be read as JSON \(ENOENT\); give a file written by --save-range/);
  const badFleet = path.join(dir, 'bad-fleet.json');
  writeFileSync(
    badFleet,
    JSON.stringify({
      prometheus: { url: 'http://127.0.0.1:9' },
      approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
      fleet: { waves: { concurrency: 0 } },
    }),
  );
  const fleet = await cli(['--rollout-file', badFleet, '--from', '-1d']);
  expect(fleet.exitCode).toBe(2);
  expect(fleet.stderr).toMatch(/fleet\.waves\.concurrency/);
});
