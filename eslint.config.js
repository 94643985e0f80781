// ESLint (flat config) for the whole tree, run by `npm test` (scripts/lint.sh) and `npm run lint`.
// Type-aware rules (floating promises, deprecations) use the TypeScript project; workflows/ gets the Temporal
// samples' rule: no Node builtins and no side-effect libraries in code that runs in the deterministic sandbox.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// What the workflow bundle must never load at run time (type-only imports are fine: they are erased).
const notInWorkflows = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/testing',
  'undici',
  'execa',
  'ws',
  'jose',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'test-artifacts/**', '.data/**', '.tools/**', 'test/histories/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // An un-awaited activity, timer or request is a bug in a workflow and a lost error elsewhere.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-deprecated': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // CommonJS on purpose (loaded by the workflow bundle's failure converter through require).
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: notInWorkflows.map((name) => ({
            name,
            allowTypeImports: true,
            message: 'Workflows run in a deterministic sandbox: do side effects in an activity.',
          })),
          patterns: [
            {
              group: ['**/activities/*', '!**/activities/index*'],
              allowTypeImports: true,
              message: 'Workflows reach activities only through proxyActivities (import types only).',
            },
          ],
        },
      ],
    },
  },
);
