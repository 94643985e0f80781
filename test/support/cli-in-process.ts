/** Moved to bench/support/cli-in-process.ts (the benchmarks run it too); kept here for the suites that import it from test/support. */
export * from '../../bench/support/cli-in-process.js';
