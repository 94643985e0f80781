/**
 * `pulse-runbook canary simulate`: what a rollout's gates would have done over recorded metrics (issue 17). Reads the
 * catalogue's queries over a time range from Prometheus (query_range) or from a range file saved earlier with
 * `--save-range`, replays them through the workflow's own gate code (src/canary/simulate.ts), and prints the timeline
 * (or `--json`) and, with `--svg FILE`, a chart of the green clock per phase. Needs no Temporal server.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { CanaryInputSchema } from '../config/canary.js';
import { ConfigError } from '../config/load.js';
import { simulate, SimulationError, type RangeSource } from '../canary/simulate.js';
import { greenClockSvg, renderSimulation } from '../canary/simulate-render.js';
import { PrometheusClient } from '../prometheus/client.js';
import { fileRangeSource, prometheusRangeSource, RangeFileError, recordingSource } from '../canary/range-source.js';
import { canaryInputFromFlags, parseDurationFlag } from './canary.js';

interface SimulateFlags {
  rolloutFile?: string;
  from?: string;
  to?: string;
  prometheusUrl?: string;
  checkEvery?: string;
  rangeFile?: string;
  saveRange?: string;
  svg?: string;
  json?: boolean;
}

/** An ISO time, "now", or now minus a duration ("-21d", "-36h"). */
export function parseTimeFlag(value: string, flag: string, now = Date.now()): number {
  if (value === 'now') return now;
  const relative = /^-(.+)$/.exec(value);
  if (relative) return now - parseDurationFlag(relative[1], flag) * 1000;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t))
    throw new ConfigError(`${flag} ${value}: must be an ISO time (2026-11-01T00:00:00Z), "now", or now minus a duration (-21d, -36h)`);
  return t;
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description(
      "Replay a rollout's gates, green clock and abort criteria over recorded metrics (Prometheus query_range, or a saved range file)",
    )
    .option('--rollout-file <file>', 'the rollout (the same JSON as canary start)')
    .option(
      '--from <time>',
      'the rollout start to simulate: ISO time, or now minus a duration (-21d); default with --range-file: its start',
    )
    .option('--to <time>', 'the end of the range: ISO time, "now" or -<duration> (default: now, or the range file\'s end)')
    .option('--prometheus-url <url>', "Prometheus base URL, overriding the file's prometheus.url")
    .option('--check-every <duration>', "the check interval, overriding the file's checkEverySeconds (the grid the series are read on)")
    .option('--range-file <file>', 'read the series from a file saved with --save-range instead of Prometheus')
    .option('--save-range <file>', 'save the series read from Prometheus, so the review can be rerun without it')
    .option('--svg <file>', 'write a chart of the green clock per phase')
    .option('--json', 'print JSON instead of the timeline table')
    .action(async (flags: SimulateFlags) => {
      const started = performance.now();
      if (flags.rangeFile && flags.saveRange)
        throw new ConfigError(
          'canary simulate: give --range-file (read saved series) or --save-range (save what Prometheus answers), not both',
        );
      if (flags.rangeFile && flags.prometheusUrl)
        throw new ConfigError('canary simulate --prometheus-url: not used with --range-file, which holds the series; leave one out');
      const { raw } = canaryInputFromFlags(
        {
          rolloutFile: flags.rolloutFile,
          prometheusUrl: flags.prometheusUrl,
          checkEvery: flags.checkEvery,
          actor: 'simulation',
        } as Parameters<typeof canaryInputFromFlags>[0],
        'canary simulate',
      );
      const input = CanaryInputSchema.parse(raw);

      let source: RangeSource;
      let save: ReturnType<typeof recordingSource> | undefined;
      let from = flags.from !== undefined ? parseTimeFlag(flags.from, '--from') : undefined;
      let to = flags.to !== undefined ? parseTimeFlag(flags.to, '--to') : undefined;
      if (flags.rangeFile) {
        let file: ReturnType<typeof fileRangeSource>;
        try {
          file = fileRangeSource(flags.rangeFile);
        } catch (err) {
          throw new ConfigError((err as Error).message);
        }
        if (file.saved.stepSeconds !== input.checkEverySeconds) {
          throw new ConfigError(
            `canary simulate --range-file ${flags.rangeFile}: saved with a check every ${file.saved.stepSeconds} s, but the rollout checks every ${input.checkEverySeconds} s; give --check-every ${file.saved.stepSeconds}s or save the range again`,
          );
        }
        from ??= file.saved.from * 1000;
        to ??= file.saved.to * 1000;
        source = file;
      } else {
        if (from === undefined)
          throw new ConfigError(
            'canary simulate --from: required when reading Prometheus; give the rollout start, e.g. --from 2026-11-01T00:00:00Z or --from -21d',
          );
        const client = await PrometheusClient.create(input.prometheus);
        source = prometheusRangeSource(client);
        if (flags.saveRange) source = save = recordingSource(source);
      }
      to ??= Date.now();

      let result;
      try {
        result = await simulate(input, source, { from: from!, to });
      } catch (err) {
        if (err instanceof SimulationError || err instanceof RangeFileError) throw new ConfigError(`canary simulate: ${err.message}`);
        throw err;
      }
      if (save && flags.saveRange) save.save(flags.saveRange, { from: from! / 1000, to: to / 1000, stepSeconds: input.checkEverySeconds });
      if (flags.svg) writeFileSync(flags.svg, greenClockSvg(result, input));
      const elapsedMs = Math.round(performance.now() - started);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...result, elapsedMs }, null, 2)}\n`);
        return;
      }
      const files = [flags.saveRange && `series saved to ${flags.saveRange}`, flags.svg && `chart written to ${flags.svg}`]
        .filter(Boolean)
        .join('; ');
      process.stdout.write(`${renderSimulation(result)}\nSimulated in ${(elapsedMs / 1000).toFixed(1)} s${files ? `; ${files}` : ''}\n`);
    });
}
