/**
 * `canary simulate` over three weeks of one-minute data (issue 17): a fleet of three Pulse instances (per-instance
 * gates on), their Pulse-shaped series backfilled into a real Prometheus 2.42: timeouts on one instance on day 1 and
 * auth errors on another on day 5 (each taken out on its own), memory +50 % on the third on day 19 (abort criterion 3). Prints how long the CLI takes (`pulse-runbook canary simulate`,
 * a real process, as a person runs it) reading Prometheus with --save-range, then reading the saved range file, and
 * what it found. Figures only, no asserts.
 *   npx tsx bench/canary-simulate.ts            (or via `npm run bench`)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { SimulationResult } from '../src/canary/simulate.js';
import { rolloutSeries } from './support/canary-range.js';
import { backfill, startPrometheus } from '../src/prometheus/local-server.js';

export async function canarySimulateThreeWeeks(days = Number(process.env.SIMULATE_BENCH_DAYS ?? 21)): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-simulate-'));
  const start = Date.parse('2026-09-01T00:00:00Z') / 1000;
  const hours = days * 24;
  let t = performance.now();
  const text = rolloutSeries({
    start,
    hours,
    pulses: [
      { name: 'pulse-a', faults: [{ hour: 20, kind: 'T', polls: 6 }] },
      { name: 'pulse-b', faults: [{ hour: 5 * 24, kind: 'A', polls: 5, stop: true }] },
      { name: 'pulse-c', memoryGrowth: { hour: 19 * 24, factor: 1.5 } },
    ],
  });
  const generated = performance.now() - t;
  t = performance.now();
  const tsdb = await backfill(text);
  const backfilled = performance.now() - t;
  const prometheus = await startPrometheus({ storagePath: tsdb.dir });
  try {
    const rollout = path.join(dir, 'rollout.json');
    writeFileSync(
      rollout,
      JSON.stringify({
        rollout: 'bench',
        prometheus: { url: prometheus.url, timeoutMs: 120_000 },
        approvers: { phase1: ['sam'], phase2: ['sam'], phase3: ['sam'] },
        phase1: { instances: ['pulse-a', 'pulse-b', 'pulse-c'].map((name) => ({ name })) },
        fleet: {
          instanceLabel: 'pulse_instance',
          waves: { maxFailures: 2 },
          template: { enable: { pulse: { url: 'http://{name}:7655' } }, disable: { pulse: { url: 'http://{name}:7655' } } },
        },
      }),
    );
    const range = path.join(dir, 'range.json');
    // CPU seconds (user + system) of the command, from /usr/bin/time where there is one: on a machine shared with other
    // work the wall time says more about the neighbours than about the command.
    const timeFile = path.join(dir, 'time.txt');
    const timed = async (args: string[]) => {
      const began = performance.now();
      const r = existsSync('/usr/bin/time')
        ? await execa('/usr/bin/time', ['-o', timeFile, '-f', '%U %S', process.execPath, ...args], { env: { PULSE_RUNBOOKS_CONFIG: '' } })
        : await execa(process.execPath, args, { env: { PULSE_RUNBOOKS_CONFIG: '' } });
      const ms = performance.now() - began;
      const cpu = existsSync(timeFile)
        ? readFileSync(timeFile, 'utf8')
            .trim()
            .split(/\s+/)
            .map(Number)
            .reduce((a, b) => a + b, 0)
        : NaN;
      rmSync(timeFile, { force: true });
      return { ms, cpu, stdout: r.stdout };
    };
    const run = async (args: string[]) => {
      const r = await timed(['bin/pulse-runbook.js', 'canary', 'simulate', '--rollout-file', rollout, '--json', ...args]);
      return { ...r, result: JSON.parse(r.stdout) as SimulationResult & { elapsedMs: number } };
    };
    const iso = (h: number) => new Date((start + h * 3600) * 1000).toISOString();
    const fromPrometheus = await run(['--from', iso(0), '--to', iso(hours), '--save-range', range]);
    const fromFile = await run(['--range-file', range]);
    // A baseline in the same run, on the same (possibly loaded) machine: the same program doing nothing but start and
    // print its help, so the figures above can be read against what merely starting it costs here.
    const baseline = await timed(['bin/pulse-runbook.js', 'canary', 'simulate', '--help']);
    const r = fromFile.result;
    const lines = text.split('\n').length - 1;
    console.log(
      `canary simulate over ${days} days of one-minute data (3 instances, per-instance gates, ${lines} backfilled samples; backfill ${(backfilled / 1000).toFixed(1)} s, generation ${(generated / 1000).toFixed(1)} s): ` +
        `${r.evaluations} checks; from Prometheus (query_range, --save-range) ${(fromPrometheus.ms / 1000).toFixed(1)} s wall, ${fromPrometheus.cpu.toFixed(1)} s CPU (${(fromPrometheus.result.elapsedMs / 1000).toFixed(1)} s in the command); ` +
        `from the saved range file (${(statSync(range).size / 1048576).toFixed(1)} MiB) ${(fromFile.ms / 1000).toFixed(1)} s wall, ${fromFile.cpu.toFixed(1)} s CPU (${(r.elapsedMs / 1000).toFixed(1)} s in the command); ` +
        `baseline in the same run, \`canary simulate --help\`: ${(baseline.ms / 1000).toFixed(1)} s wall, ${baseline.cpu.toFixed(1)} s CPU; ` +
        `found: ${r.resets.length} green-clock reset(s), gates open at ${
          r.phases
            .filter((p) => p.gateOpenedAt)
            .map((p) => `${((Date.parse(p.gateOpenedAt!) - start * 1000) / 3600_000).toFixed(1)} h`)
            .join(', ') || 'none'
        }, ` +
        `instances taken out: ${r.instances?.broke.map((b) => b.name).join(', ') || 'none'}, abort: ${r.abort ? `${r.abort.criterion} at ${((Date.parse(r.abort.at) - start * 1000) / 3600_000).toFixed(1)} h` : 'none'}; ` +
        `same answer from both: ${JSON.stringify({ ...r, source: '', elapsedMs: 0 }) === JSON.stringify({ ...fromPrometheus.result, source: '', elapsedMs: 0 })}`,
    );
  } finally {
    await prometheus.stop();
    tsdb.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await canarySimulateThreeWeeks();
