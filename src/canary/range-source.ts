/**
 * Where `canary simulate` reads its series: Prometheus's `query_range` (in chunks under its 11,000-points-per-series
 * limit), and a saved range file, so a review can be rerun later without Prometheus (`--save-range`, `--range-file`).
 * A range file holds exactly the answers a simulation asked for: each query with its range and step, the values
 * aligned to the grid. Node only (files); the simulation itself does not know where its series come from.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { RangeSeries, RangeSource } from './simulate.js';
import type { PrometheusClient } from '../prometheus/client.js';

/** Points per query_range request (Prometheus refuses more than 11,000 per series). */
export const POINTS_PER_REQUEST = 10_000;
export const RANGE_FILE_FORMAT = 'pulse-runbooks/canary-range/v1';

const labelKey = (labels: Record<string, string>) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

/** query_range in chunks, every series aligned to the grid from `start`. */
export function prometheusRangeSource(client: PrometheusClient): RangeSource {
  return {
    describe: `${client.baseUrl} (query_range)`,
    async range(query, start, end, step) {
      const count = Math.round((end - start) / step) + 1;
      const byKey = new Map<string, RangeSeries>();
      // The chunks are asked for together: Prometheus evaluates them on its own cores while this process waits.
      const firsts = Array.from({ length: Math.ceil(count / POINTS_PER_REQUEST) }, (_, i) => i * POINTS_PER_REQUEST);
      const answers = await Promise.all(
        firsts.map((first) =>
          client.queryRange(query, start + first * step, start + Math.min(count - 1, first + POINTS_PER_REQUEST - 1) * step, step),
        ),
      );
      for (const series of answers.flat()) {
        const key = labelKey(series.labels);
        let entry = byKey.get(key);
        if (!entry) byKey.set(key, (entry = { labels: series.labels, values: new Array<string | null>(count).fill(null) }));
        for (const [t, v] of series.values) entry.values[Math.round((t - start) / step)] = v;
      }
      return [...byKey.values()];
    },
  };
}

interface SavedAnswer {
  query: string;
  start: number;
  end: number;
  step: number;
  series: RangeSeries[];
}

export interface RangeFile {
  format: typeof RANGE_FILE_FORMAT;
  savedAt: string;
  /** Where the answers came from. */
  source: string;
  /** The range and grid simulated when it was saved (unix seconds). */
  from: number;
  to: number;
  stepSeconds: number;
  answers: SavedAnswer[];
}

/** Wraps a source and keeps every answer, for `--save-range`. */
export function recordingSource(
  inner: RangeSource,
): RangeSource & { save(file: string, range: { from: number; to: number; stepSeconds: number }): void } {
  const answers: SavedAnswer[] = [];
  return {
    describe: inner.describe,
    async range(query, start, end, step) {
      const series = await inner.range(query, start, end, step);
      answers.push({ query, start, end, step, series });
      return series;
    },
    save(file, range) {
      const body: RangeFile = { format: RANGE_FILE_FORMAT, savedAt: new Date().toISOString(), source: inner.describe, ...range, answers };
      writeFileSync(file, JSON.stringify(body));
    },
  };
}

export class RangeFileError extends Error {}

/** Answers from a saved range file; a query it does not hold is an error that says how to get it. */
export function fileRangeSource(file: string): RangeSource & { saved: RangeFile } {
  let saved: RangeFile;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as RangeFile;
  } catch (err) {
    throw new RangeFileError(
      `--range-file ${file}: cannot be read as JSON (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a file written by --save-range`,
    );
  }
  if (saved?.format !== RANGE_FILE_FORMAT)
    throw new RangeFileError(
      `--range-file ${file}: not a range file (format ${JSON.stringify(saved?.format)}, expected ${RANGE_FILE_FORMAT}); give a file written by --save-range`,
    );
  const byQuery = new Map<string, SavedAnswer[]>();
  for (const a of saved.answers) byQuery.set(a.query, [...(byQuery.get(a.query) ?? []), a]);
  return {
    saved,
    describe: `${file} (saved ${saved.savedAt} from ${saved.source})`,
    async range(query, start, end, step) {
      const eps = 1e-6;
      for (const a of byQuery.get(query) ?? []) {
        const offset = (start - a.start) / step;
        if (a.step !== step || start < a.start - eps || end > a.end + eps || Math.abs(offset - Math.round(offset)) > eps) continue;
        const k = Math.round(offset);
        const count = Math.round((end - start) / step) + 1;
        return a.series.map((s) => ({ labels: s.labels, values: s.values.slice(k, k + count) }));
      }
      throw new RangeFileError(
        `the range file has no answer for this query over ${new Date(start * 1000).toISOString()} to ${new Date(end * 1000).toISOString()} every ${step} s: ` +
          `it was saved for other settings (rollout file, windows, job, instances, check interval or range); save it again with --save-range against Prometheus. Query: ${query}`,
      );
    },
  };
}
