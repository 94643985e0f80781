/**
 * Data Cleanup activities (runbook §5). Side effects only; the workflow decides the order:
 * resolveDataDir → inspectTrueNASFile → fingerprintEncryptionKey (before) → removeTrueNASFile →
 * fingerprintEncryptionKey (after) → verifyEncryptionKeyIntact.
 * In plan mode files are only inspected (lstat and hash); nothing is removed.
 */
import { ApplicationFailure } from '@temporalio/common';
import { activityJournal } from './support/heartbeat.js';
import { withHostFailures } from './support/host-failures.js';
import { join } from 'node:path';
import { z } from 'zod';
import {
  CLEANUP_FAILURES,
  DataDirInputSchema,
  ENCRYPTION_KEY_FILE,
  RemoveTrueNASInputSchema,
  ResolvedDataDirSchema,
  TRUENAS_FILE,
  type DataDirInputRaw,
  type RemoveTrueNASInputRaw,
  type ResolvedDataDirInputRaw,
} from '../src/config/cleanup.js';
import {
  CleanupError,
  fingerprintDifferences,
  fingerprintFile,
  inspectRegularFile,
  removeRegularFile,
  resolveDataDir as resolveDataDirOnHost,
  type DataDirInfo,
  type FileFingerprint,
  type RegularFileFacts,
} from '../src/host/safe-files.js';
import { evidence, type Action, type StepOutcome } from '../src/runbook/evidence.js';
import { stepOf, withoutStep, type StepInput } from './support/step.js';

function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw ApplicationFailure.create({
      message: `invalid data cleanup input: ${message}`,
      type: CLEANUP_FAILURES.invalidInput,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

/** Runs an activity body with its host's CleanupErrors mapped to failures, heartbeating meanwhile. */
const translated = <T>(fn: () => Promise<T>): Promise<T> => withHostFailures(CleanupError, fn);

const fileAction = (op: 'stat' | 'read' | 'delete', path: string, change?: string): Action => ({
  kind: 'file',
  op,
  path,
  ...(change ? { change } : {}),
});

/** cleanup.1: the active data directory (explicit, else the worker's PULSE_DATA_DIR, else /etc/pulse). */
export async function resolveDataDir(input: DataDirInputRaw & StepInput = {}): Promise<StepOutcome<DataDirInfo>> {
  const step = stepOf('resolveDataDir', input);
  const parsed = parseInput(DataDirInputSchema, withoutStep(input));
  return translated(async () => {
    const info = await resolveDataDirOnHost(parsed.dataDir);
    const from =
      info.source === 'input'
        ? 'given explicitly'
        : info.source === 'PULSE_DATA_DIR'
          ? "from the worker's PULSE_DATA_DIR"
          : 'the default (PULSE_DATA_DIR is unset)';
    return {
      value: info,
      evidence: evidence(step, 'ok', `The data directory is ${info.path} (${from}).`, [fileAction('stat', info.path)], { ...info }),
    };
  });
}

export interface TrueNASFileValue {
  exists: boolean;
  facts?: RegularFileFacts;
}

/** cleanup.2 / cleanup.3: `<dataDir>/truenas.enc` exists and is a regular file (a symlink is refused, not followed). */
export async function inspectTrueNASFile(
  input: ResolvedDataDirInputRaw & StepInput & { allowMissing?: boolean },
): Promise<StepOutcome<TrueNASFileValue>> {
  const step = stepOf('inspectTrueNASFile', input);
  const { allowMissing = false, step: _step, ...rest } = input;
  const parsed = parseInput(ResolvedDataDirSchema, rest);
  return translated(async () => {
    const path = join(parsed.dataDir, TRUENAS_FILE);
    const facts = await inspectRegularFile(parsed.dataDir, TRUENAS_FILE, CLEANUP_FAILURES.trueNASFileUnsafe);
    const actions = [fileAction('stat', path), fileAction('read', path, 'sha256 of the content')];
    if (!facts) {
      if (!allowMissing) throw missingFailure(path);
      return {
        value: { exists: false },
        evidence: evidence(step, 'skipped', `${path} does not exist; nothing to clean up (allowMissing).`, actions, {
          path,
          exists: false,
        }),
      };
    }
    return {
      value: { exists: true, facts },
      evidence: evidence(
        step,
        'ok',
        `${path} exists: a regular file of ${facts.size} bytes, mode ${facts.mode}, sha256 ${facts.sha256.slice(0, 16)}….`,
        actions,
        { ...facts },
      ),
    };
  });
}

function missingFailure(path: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${path} does not exist; the runbook (§5 step 3) requires it before cleanup. Check the data directory (PULSE_DATA_DIR of the Pulse service), or give --allow-missing if it is already gone`,
    type: CLEANUP_FAILURES.trueNASFileMissing,
    nonRetryable: true,
    details: [{ path }],
  });
}

/** cleanup.6 / cleanup.7: identity and hash of `.encryption.key`, never its content; taken before and after. */
export async function fingerprintEncryptionKey(input: ResolvedDataDirInputRaw & StepInput): Promise<StepOutcome<FileFingerprint>> {
  const step = stepOf('fingerprintEncryptionKey', input);
  const rest = withoutStep(input);
  const parsed = parseInput(ResolvedDataDirSchema, rest);
  return translated(async () => {
    const fp = await fingerprintFile(parsed.dataDir, ENCRYPTION_KEY_FILE);
    const summary = !fp.exists
      ? `${fp.path} does not exist.`
      : fp.kind === 'file'
        ? `${fp.path}: inode ${fp.ino}, ${fp.size} bytes, mode ${fp.mode}, sha256 ${fp.sha256?.slice(0, 16)}….`
        : `${fp.path} is a ${fp.kind}${fp.linkTarget ? ` to ${fp.linkTarget}` : ''} (described, not followed).`;
    return {
      value: fp,
      evidence: evidence(
        step,
        fp.exists ? 'ok' : 'inconclusive',
        summary,
        [fileAction('stat', fp.path), fileAction('read', fp.path, 'sha256 only, never the content')],
        { ...fp },
      ),
    };
  });
}

export type RemoveOutcome = 'removed' | 'already-removed' | 'absent' | 'planned';

export interface RemoveValue {
  outcome: RemoveOutcome;
  path: string;
  /** The removed (or, in plan mode, the inspected) file. */
  facts?: RegularFileFacts;
}

/**
 * cleanup.4: removes exactly `<dataDir>/truenas.enc` and nothing else (one unlink of a regular file).
 * Idempotent: when the file is gone and `expectedSha256` (recorded by inspectTrueNASFile) is given, a
 * previous attempt removed it → 'already-removed'. Gone without a record → TrueNASFileMissing unless allowMissing.
 */
export async function removeTrueNASFile(input: RemoveTrueNASInputRaw & StepInput): Promise<StepOutcome<RemoveValue>> {
  const step = stepOf('removeTrueNASFile', input);
  const parsed = parseInput(RemoveTrueNASInputSchema, withoutStep(input));
  return translated(async () => {
    const path = join(parsed.dataDir, TRUENAS_FILE);
    const action = fileAction('delete', path, 'unlink this one regular file; nothing else in the data directory');
    // An earlier attempt of this step that recorded (durably) that it was removing the file: if the file is gone
    // now, this run removed it and the attempt's completion was lost with its worker.
    const journal = activityJournal<{ removing?: string }>();
    const removingBefore = journal.previous.some((e) => e.removing === path);
    const gone = (): StepOutcome<RemoveValue> => {
      if (removingBefore) {
        return {
          value: { outcome: 'removed', path },
          evidence: evidence(
            step,
            'ok',
            `Removed ${path}: an earlier attempt of this step removed it and its completion was lost with its worker; this attempt found it gone.`,
            [action],
            {
              path,
              ...(parsed.expectedSha256 && { expectedSha256: parsed.expectedSha256 }),
              confirmedBy: 'retry',
            },
          ),
        };
      }
      if (parsed.expectedSha256) {
        return {
          value: { outcome: 'already-removed', path },
          evidence: evidence(
            step,
            'ok',
            `${path} is already gone: it was there at cleanup.3 (sha256 ${parsed.expectedSha256.slice(0, 16)}…) and something other than this step removed it since.`,
            [],
            {
              path,
              expectedSha256: parsed.expectedSha256,
            },
          ),
        };
      }
      if (parsed.allowMissing) {
        return {
          value: { outcome: 'absent', path },
          evidence: evidence(step, 'skipped', `${path} does not exist; nothing to remove (allowMissing).`, [], { path }),
        };
      }
      throw missingFailure(path);
    };

    if (parsed.plan) {
      const facts = await inspectRegularFile(parsed.dataDir, TRUENAS_FILE, CLEANUP_FAILURES.trueNASFileUnsafe);
      if (!facts) return gone();
      if (parsed.expectedSha256 && facts.sha256 !== parsed.expectedSha256) {
        throw ApplicationFailure.create({
          message: `${path} changed since it was inspected (sha256 differs); run the cleanup again to inspect it afresh`,
          type: CLEANUP_FAILURES.trueNASFileChanged,
          nonRetryable: true,
        });
      }
      return {
        value: { outcome: 'planned', path, facts },
        evidence: evidence(
          step,
          'planned',
          `Would remove ${path} (${facts.size} bytes, sha256 ${facts.sha256.slice(0, 16)}…) and nothing else.`,
          [action],
          { ...facts },
        ),
      };
    }

    await journal.record({ removing: path }, { durable: true });
    const removed = await removeRegularFile(parsed.dataDir, TRUENAS_FILE, {
      unsafeType: CLEANUP_FAILURES.trueNASFileUnsafe,
      changedType: CLEANUP_FAILURES.trueNASFileChanged,
      expectedSha256: parsed.expectedSha256,
    });
    if (!removed) return gone();
    return {
      value: { outcome: 'removed', path, facts: removed.facts },
      evidence: evidence(
        step,
        'ok',
        `Removed ${path} (${removed.facts.size} bytes, sha256 ${removed.facts.sha256.slice(0, 16)}…); nothing else was touched.`,
        [action],
        {
          ...removed.facts,
          nlinkAfter: removed.nlinkAfter,
        },
      ),
    };
  });
}

/** cleanup.6: `.encryption.key` has the same inode, size and hash as before the cleanup. */
export async function verifyEncryptionKeyIntact(
  input: StepInput & { plan?: boolean; before: FileFingerprint; after: FileFingerprint },
): Promise<StepOutcome<{ intact: boolean }>> {
  const step = stepOf('verifyEncryptionKeyIntact', input);
  const { before, after } = input;
  const diffs = fingerprintDifferences(before, after);
  if (diffs.length > 0) {
    throw ApplicationFailure.create({
      message: `${after.path} changed during the cleanup (${diffs.join('; ')}); Pulse needs this key to decrypt its other secrets: restore it from backup if it was replaced`,
      type: CLEANUP_FAILURES.encryptionKeyChanged,
      nonRetryable: true,
      details: [{ before, after, differences: diffs }],
    });
  }
  const modeNote = before.mode !== after.mode ? ` (its mode changed ${before.mode} → ${after.mode})` : '';
  if (!before.exists) {
    return {
      value: { intact: true },
      evidence: evidence(
        step,
        'inconclusive',
        `${after.path} did not exist before the cleanup and does not now; Pulse creates it at start.`,
        [],
        { before, after },
      ),
    };
  }
  return {
    value: { intact: true },
    evidence: evidence(
      step,
      input.plan ? 'planned' : 'ok',
      `${after.path} is intact: same inode ${after.ino}, size ${after.size} and sha256${modeNote}.`,
      [],
      { before, after },
    ),
  };
}
