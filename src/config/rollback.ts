/**
 * Input of the Code Rollback procedure (runbook §4) and the failure types its activities raise.
 *
 * This module is imported by workflows too, so it must stay deterministic: zod only, no node: imports
 * (hence the hand-written absolute-path check instead of node:path).
 */
import { z } from 'zod';

/**
 * The runbook's range (TN-00 … TRR-00). It exists only on the February development line: these commits are
 * not ancestors of public `main` or `pulse/v6-release` (pulse-api.md §0, §8.7), so on a public checkout the
 * operator must give the range of their own branch.
 */
export const RUNBOOK_ROLLBACK_RANGE = { from: 'f9680ef8', to: '687ecd79' } as const;

/** The runbook's build check (§4 step 3). */
export const DEFAULT_BUILD_COMMAND: readonly string[] = ['go', 'build', './...'];

/** A cold `go build ./...` of Pulse takes minutes; 15 minutes leaves room without hiding a hung build. */
export const DEFAULT_BUILD_TIMEOUT_MS = 15 * 60_000;

/** Told to the operator whenever a range is not in the checked-out history. */
export const RANGE_NOT_IN_HISTORY_HELP =
  `The runbook's range ${RUNBOOK_ROLLBACK_RANGE.from}^..${RUNBOOK_ROLLBACK_RANGE.to} (TN-00 through TRR-00) exists only on ` +
  'the February TrueNAS development line: those commits are not ancestors of public main or pulse/v6-release, ' +
  'where the v6 work was squashed into one release commit (pulse-api.md §0, §8.7). ' +
  'Give the range of your own branch with --from/--to (oldest TrueNAS commit as from, newest as to).';

/** Failure types (ApplicationFailure.type) of the rollback activities. Workflows decide on these, never on text. */
export const ROLLBACK_FAILURES = {
  invalidInput: 'InvalidRollbackInput',
  gitUnavailable: 'GitUnavailable',
  gitCommandFailed: 'GitCommandFailed',
  repositoryInvalid: 'RepositoryInvalid',
  commitUnknown: 'CommitUnknown',
  commitAmbiguous: 'CommitAmbiguous',
  rangeInvalid: 'RangeInvalid',
  rangeNotInHistory: 'RangeNotInHistory',
  rangePartiallyReverted: 'RangePartiallyReverted',
  workTreeDirty: 'WorkTreeDirty',
  operationInProgress: 'GitOperationInProgress',
  identityMissing: 'GitIdentityMissing',
  revertConflict: 'RevertConflict',
  revertFailed: 'RevertFailed',
  revertAbortIncomplete: 'RevertAbortIncomplete',
  buildFailed: 'BuildFailed',
} as const;

export type RollbackFailureType = (typeof ROLLBACK_FAILURES)[keyof typeof ROLLBACK_FAILURES];

/**
 * Only a git command that failed for an unknown reason (a held index.lock, a busy disk) may get better by
 * trying again; every other rollback failure needs a person.
 */
export const ROLLBACK_RETRYABLE_TYPES: readonly string[] = [ROLLBACK_FAILURES.gitCommandFailed];

/**
 * An absolute, already-normalised POSIX path. `.` and `..` segments are refused rather than resolved, because
 * resolving them lexically can disagree with the kernel when a segment is a symlink.
 */
export function absolutePath(field: string, example: string) {
  return z
    .string({ error: `${field} must be an absolute path such as ${example}` })
    .min(1, `${field} must be an absolute path such as ${example}`)
    .refine((p) => p.startsWith('/'), `${field} must be an absolute path such as ${example}`)
    .refine(
      (p) => !p.split('/').some((s) => s === '.' || s === '..'),
      `${field} must not contain . or .. segments; give the real path such as ${example}`,
    )
    .refine((p) => !p.includes('\0'), `${field} must not contain a NUL character`)
    .transform((p) => p.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1'));
}

/** A full or abbreviated hex commit id; abbreviations shorter than git's own minimum (4) are refused. */
export function commitId(field: string) {
  const message = `${field} must be a hex commit id such as ${RUNBOOK_ROLLBACK_RANGE.from} (4 to 40 hex digits)`;
  return z
    .string({ error: message })
    .trim()
    .regex(/^[0-9a-fA-F]{4,40}$/, message)
    .transform((s) => s.toLowerCase());
}

export const RepoPathSchema = absolutePath('repoPath', '/srv/pulse');

export const BuildCommandSchema = z
  .array(z.string().min(1, 'buildCommand arguments must not be empty'), {
    error: 'buildCommand must be an argv array such as ["go","build","./..."]',
  })
  .min(1, 'buildCommand must name a program, e.g. ["go","build","./..."]');

/** Extra environment for the build (e.g. GOFLAGS, CGO_ENABLED), on top of the worker's environment. */
export const BuildEnvSchema = z
  .record(z.string(), z.string({ error: 'buildEnv values must be strings' }), { error: 'buildEnv must be an object of NAME: value pairs' })
  .refine(
    (env) => Object.keys(env).every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)),
    'buildEnv keys must be environment variable names such as GOFLAGS',
  );

/** The whole procedure's input: the same schema checks the CLI flags, the config file and the workflow input. */
export const RollbackInputSchema = z
  .object({
    /** Plan mode: read-only git commands run; the revert and the build are described, not done. */
    plan: z.boolean().default(false),
    /** The top-level folder of the Pulse checkout to revert (a subfolder or a parent repository is refused). */
    repoPath: RepoPathSchema,
    /** Oldest commit of the range (reverted too, as in the runbook's `from^..to`). */
    from: commitId('from').default(RUNBOOK_ROLLBACK_RANGE.from),
    /** Newest commit of the range. */
    to: commitId('to').default(RUNBOOK_ROLLBACK_RANGE.to),
    buildCommand: BuildCommandSchema.default([...DEFAULT_BUILD_COMMAND]),
    buildEnv: BuildEnvSchema.default({}),
    buildTimeoutMs: z
      .number({ error: 'buildTimeoutMs must be a number of milliseconds' })
      .int('buildTimeoutMs must be a whole number of milliseconds')
      .positive('buildTimeoutMs must be positive')
      .max(4 * 3_600_000, 'buildTimeoutMs must be at most 4 hours (14400000)')
      .default(DEFAULT_BUILD_TIMEOUT_MS),
  })
  .strict();

export type RollbackInput = z.infer<typeof RollbackInputSchema>;
export type RollbackInputRaw = z.input<typeof RollbackInputSchema>;

/** Inputs of the single activities: picks of the procedure's schema, so a field is checked the same way everywhere. */
export const RollbackRangeInputSchema = RollbackInputSchema.pick({ plan: true, repoPath: true, from: true, to: true });
export type RollbackRangeInput = z.infer<typeof RollbackRangeInputSchema>;
export type RollbackRangeInputRaw = z.input<typeof RollbackRangeInputSchema>;

export const BuildInputSchema = RollbackInputSchema.pick({
  plan: true,
  repoPath: true,
  buildCommand: true,
  buildEnv: true,
  buildTimeoutMs: true,
});
export type BuildInput = z.infer<typeof BuildInputSchema>;
export type BuildInputRaw = z.input<typeof BuildInputSchema>;

/** Whether a value is the runbook's default for that end of the range (abbreviation or full id). */
export function isRunbookDefault(field: 'from' | 'to', sha: string): boolean {
  const def = RUNBOOK_ROLLBACK_RANGE[field];
  return sha.startsWith(def) || def.startsWith(sha);
}
