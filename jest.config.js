// Four projects, so a run starts only the servers its tests need:
//  - unit:       no server (schemas, emulator, host actions against real files and processes)
//  - workflows:  the real time-skipping test server, one per test file (48 h timers at their real values)
//  - e2e:        one real Temporal dev server for the whole run (globalSetup), plus real processes
//  - production: the production rehearsal's cluster (PostgreSQL, Temporal 1.30.1 as separate services, UI, codec
//                server, two workers), started by its one test file, which runs the fault tests in sequence
// @swc/jest transpiles only (the files are isolatedModules); `npm test` type-checks the whole tree with tsc first. It
// replaced ts-jest: the same transpile-only work at a fraction of the CPU (on a fresh clone every lane transpiles).
// maxWorkers 1 is the default here; scripts/test.sh runs the unit project alone with --maxWorkers 2 (see there).
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, sourceMaps: 'inline' }],
  },
};

export default {
  testTimeout: 120_000,
  testSequencer: '<rootDir>/test/support/slow-first-sequencer.cjs',
  maxWorkers: 1,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'workflows', testMatch: ['<rootDir>/test/workflows/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
    { ...common, displayName: 'production', testMatch: ['<rootDir>/test/production/**/*.test.ts'] },
  ],
};
