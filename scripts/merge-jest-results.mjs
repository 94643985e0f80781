#!/usr/bin/env node
/**
 * Merges jest `--json` reports of several runs (scripts/test.sh runs the unit project apart from the others) into
 * one report of the same shape: counts summed, test files concatenated, success only when every run succeeded.
 * A missing input (a run that could not start) makes the merged report fail.
 *
 *   node scripts/merge-jest-results.mjs <out.json> <in.json>...
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) throw new Error('usage: merge-jest-results.mjs <out.json> <in.json>...');
const reports = inputs.filter((f) => existsSync(f)).map((f) => JSON.parse(readFileSync(f, 'utf8')));
if (reports.length === 0) throw new Error(`no jest report among ${inputs.join(', ')}`);
const merged = { ...reports[0], testResults: [], success: reports.length === inputs.length };
for (const key of Object.keys(merged)) if (/^num/.test(key)) merged[key] = 0;
for (const r of reports) {
  for (const [key, value] of Object.entries(r)) if (/^num/.test(key) && typeof value === 'number') merged[key] += value;
  merged.testResults.push(...r.testResults);
  merged.success &&= r.success;
  merged.startTime = Math.min(merged.startTime, r.startTime);
}
writeFileSync(out, JSON.stringify(merged));
if (reports.length !== inputs.length)
  process.stderr.write(`[test] missing jest report: ${inputs.filter((f) => !existsSync(f)).join(', ')}\n`);
