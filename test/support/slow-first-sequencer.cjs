/**
 * Jest's order of test files, with the slowest known files first. Jest itself starts the files that took longest in
 * its last run first, but a fresh clone (CI) has no such record and falls back to file size: then a 3-minute file
 * could start last and run alone at the end while the other worker idles. The list is in order of measured time
 * (scripts/test.sh's lanes, December); files not in it keep jest's own order after them.
 */
const Sequencer = require('@jest/test-sequencer').default;

const SLOWEST_FIRST = [
  'production/cluster-faults',
  'workflows/canary-rollout',
  'e2e/fault-matrix',
  'e2e/temporal-outage',
  'e2e/rollback',
  'e2e/cleanup',
  'workflows/canary-simulate',
  'unit/rollback-git',
  'unit/npm-package',
];

const rank = (test) => {
  const i = SLOWEST_FIRST.findIndex((name) => test.path.endsWith(`/test/${name}.test.ts`));
  return i === -1 ? SLOWEST_FIRST.length : i;
};

class SlowestFirst extends Sequencer {
  async sort(tests) {
    const ordered = await super.sort(tests);
    return [...ordered].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = SlowestFirst;
