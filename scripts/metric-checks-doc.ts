/**
 * Prints the "queries" part of docs/metric-checks.md: every check of the catalogue with its source, rule, window,
 * empty/NaN verdicts, note and query as checkQuery builds it with the runbook's windows. After changing a query:
 *
 *   npx tsx scripts/metric-checks-doc.ts
 *
 * and paste the output under "### The queries (runbook windows)"; test/unit/prometheus-checks.test.ts fails while
 * the page shows a query the catalogue no longer builds. The fleet forms (issue 17) follow: each checkpoint per
 * instance, and one fleet-wide query without two instances taken out.
 */
import { CHECK_IDS, CHECKS, checkQuery, checkReference, PER_INSTANCE_CHECKS } from '../src/prometheus/checks.js';

for (const id of CHECK_IDS) {
  const c = CHECKS[id];
  const { query, windowSeconds } = checkQuery(id);
  console.log(`### \`${id}\` — ${checkReference(c)}${c.source.row ? ` (${c.source.step})` : ''}\n`);
  console.log(
    `${c.metric} — ${c.condition}. Fails when the value ${c.comparison} ${c.threshold}${windowSeconds ? `; window ${windowSeconds} s` : ''}; ` +
      `empty result: ${c.onEmpty}; NaN: ${c.onNaN}.${c.note ? ` ${c.note}` : ''}\n`,
  );
  console.log(`\`\`\`promql\n${query}\n\`\`\`\n`);
}

console.log('### A fleet: the checkpoints per instance (`fleet.instanceLabel: pulse_instance`)\n');
for (const id of PER_INSTANCE_CHECKS) {
  console.log(`\`${id}\` per instance:\n\n\`\`\`promql\n${checkQuery(id, { by: 'pulse_instance' }).query}\n\`\`\`\n`);
}
console.log('Fleet-wide without the instances the rollout took out (here `pulse-17` and `pulse-203`), e.g. `auth-gate`:\n');
console.log(
  `\`\`\`promql\n${checkQuery('auth-gate', { exclude: { label: 'pulse_instance', values: ['pulse-17', 'pulse-203'] } }).query}\n\`\`\`\n`,
);
