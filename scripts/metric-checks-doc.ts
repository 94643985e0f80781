/**
 * Prints the "queries" part of docs/metric-checks.md: every check of the catalogue with its source, rule, window,
 * empty/NaN verdicts, note and query as checkQuery builds it with the runbook's windows. After changing a query:
 *
 *   npx tsx scripts/metric-checks-doc.ts
 *
 * and paste the output under "### The queries (runbook windows)"; test/unit/prometheus-checks.test.ts fails while
 * the page shows a query the catalogue no longer builds.
 */
import { CHECK_IDS, CHECKS, checkQuery, checkReference } from '../src/prometheus/checks.js';

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
