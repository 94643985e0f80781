/**
 * Runbook §5, Data Cleanup: remove `<data dir>/truenas.enc` and nothing else, then prove it: Pulse lists no
 * connection and `.encryption.key` is the same file with the same content (inode, size, sha256) as before.
 *
 * The files are read and removed by the worker on its own host (activities/data-files.ts): the data directory
 * is the explicit one, else the worker's PULSE_DATA_DIR, else /etc/pulse, and must be the Pulse service's.
 * A symlinked data directory or truenas.enc is refused, never followed.
 *
 * Idempotency: the removal is one activity told the sha256 recorded at cleanup.3. A worker lost after the removal
 * replays its result from history; an attempt whose completion was lost is retried and finds the file gone with a
 * recorded hash, which is 'already-removed', not a failure and not a second removal.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type * as dataFileActivities from '../activities/data-files.js';
import type * as pulseActivities from '../activities/pulse-api.js';
import { CLEANUP_FAILURES, ENCRYPTION_KEY_FILE, TRUENAS_FILE } from '../src/config/cleanup.js';
import { DataCleanupInputSchema, type DataCleanupInputRaw } from '../src/config/data-cleanup-input.js';
import { FAILURE_TYPES } from '../src/runbook/failure-types.js';
import { activityOptions } from './support/activity-options.js';
import { procedureDefinition, runProcedure, type ProcedureResultBase } from './support/procedure.js';
import { pulseActivitySeconds } from './support/pulse-activity-timeout.js';

export interface DataCleanupResult extends ProcedureResultBase<'data-cleanup'> {
  dataDir: string;
  /** Where the data directory came from: the input, the worker's PULSE_DATA_DIR, or Pulse's default. */
  dataDirSource: 'input' | 'PULSE_DATA_DIR' | 'default';
  truenasFile: { path: string; outcome: dataFileActivities.RemoveOutcome; size?: number; sha256?: string };
  /** What GET /api/truenas/connections showed after the removal (absent in plan mode). */
  connectionsAfter?: 'empty' | 'integration-disabled' | 'routes-absent';
  /** `.encryption.key` compared before and after (identity and size; the hashes are in the evidence). */
  encryptionKey?: { path: string; intact: boolean; existed: boolean; ino?: string; size?: number };
}

/** Pulse answers 404 on the connections route when the feature is off or (after a code rollback) the route is gone. */
const LIST_UNAVAILABLE: Record<string, NonNullable<DataCleanupResult['connectionsAfter']>> = {
  [FAILURE_TYPES.pulseDisabled]: 'integration-disabled',
  [FAILURE_TYPES.pulseNotFound]: 'routes-absent',
};

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
}

const joinPath = (dir: string, name: string) => `${dir === '/' ? '' : dir}/${name}`;

const dataCleanupDefinition = procedureDefinition('data-cleanup', DataCleanupInputSchema, CLEANUP_FAILURES.invalidInput, 'data cleanup');

export async function dataCleanup(raw: DataCleanupInputRaw): Promise<DataCleanupResult> {
  return runProcedure(dataCleanupDefinition, raw, ({ input, log, base }) => {
    // Each call's summary in the Web UI names the runbook step it belongs to.
    const files = log.activities<typeof dataFileActivities>(activityOptions(input.retry, input.fileTimeoutSeconds));
    const pulse = log.activities<typeof pulseActivities>(activityOptions(input.retry, pulseActivitySeconds(input.pulse.timeoutMs)));
    const plan = input.plan;
    const result: DataCleanupResult = {
      ...base,
      dataDir: input.dataDir ?? '',
      dataDirSource: input.dataDir ? 'input' : 'default',
      truenasFile: { path: '', outcome: 'planned' },
    };

    const steps = async () => {
      // Step 1: `${PULSE_DATA_DIR:-/etc/pulse}`, resolved where the files are: on the worker's host.
      log.begin('cleanup.1');
      const resolved = await files.resolveDataDir({ step: 'cleanup.1', plan, ...(input.dataDir ? { dataDir: input.dataDir } : {}) });
      log.add({
        ...resolved.evidence,
        summary: `${resolved.evidence.summary} The worker reads and removes files on its own host: this must be the data directory of the Pulse service running there.`,
      });
      const dataDir = resolved.value.path;
      result.dataDir = dataDir;
      result.dataDirSource = resolved.value.source;
      const truenasPath = joinPath(dataDir, TRUENAS_FILE);
      result.truenasFile.path = truenasPath;

      // Step 2: Pulse keeps TrueNAS connections in exactly this file of its data directory (the dev runner's
      // tmp/dev-config is just another data directory).
      log.begin('cleanup.2');
      log.note('cleanup.2', plan ? 'planned' : 'ok', `The TrueNAS config file is ${truenasPath}.`, { path: truenasPath }, [
        { kind: 'file', op: 'stat', path: truenasPath },
      ]);

      // Step 3: it must exist and be a regular file (a symlink is refused, not followed); its hash is recorded.
      log.begin('cleanup.3');
      const inspected = await files.inspectTrueNASFile({ step: 'cleanup.3', plan, dataDir, allowMissing: input.allowMissing });
      log.add(inspected.evidence);
      const facts = inspected.value.facts;
      if (facts) result.truenasFile = { ...result.truenasFile, size: facts.size, sha256: facts.sha256 };

      // The key's identity before anything is removed: cleanup.6 compares against it.
      const keyBefore = await files.fingerprintEncryptionKey({ plan, dataDir, step: 'cleanup.6' });

      // Step 4: one unlink of that one file, told the hash it must still have.
      log.begin('cleanup.4');
      const removed = await files.removeTrueNASFile({
        step: 'cleanup.4',
        plan,
        dataDir,
        allowMissing: input.allowMissing,
        ...(facts ? { expectedSha256: facts.sha256 } : {}),
      });
      log.add(removed.evidence);
      result.truenasFile.outcome = removed.value.outcome;

      // Step 5: Pulse reads the file on every list call, so the list is [] at once.
      log.begin('cleanup.5');
      try {
        const listed = await pulse.verifyNoConnections({ pulse: input.pulse, plan, step: 'cleanup.5' });
        log.add(listed.evidence);
        if (!plan) result.connectionsAfter = 'empty';
      } catch (err) {
        const type = failureType(err);
        const unavailable = type ? LIST_UNAVAILABLE[type] : undefined;
        if (unavailable) {
          result.connectionsAfter = unavailable;
          log.note(
            'cleanup.5',
            'skipped',
            unavailable === 'integration-disabled'
              ? 'GET /api/truenas/connections answered 404 truenas_disabled: the integration is off, so Pulse lists nothing; the list is checked again once it is enabled.'
              : 'GET /api/truenas/connections answered 404: this Pulse has no TrueNAS routes (e.g. after a code rollback), so there is no list to check.',
            { failureType: type },
            [{ kind: 'http', method: 'GET', url: `${input.pulse.url}/api/truenas/connections`, expect: '200 []' }],
          );
        } else if (type === FAILURE_TYPES.connectionsRemain) {
          throw ApplicationFailure.create({
            message: `Pulse at ${input.pulse.url} still lists connections after ${truenasPath} was removed: ${dataDir} is probably not the data directory this Pulse uses (compare its PULSE_DATA_DIR), or a connection was added meanwhile`,
            type: FAILURE_TYPES.connectionsRemain,
            nonRetryable: true,
          });
        } else {
          throw err;
        }
      }

      // Step 6: `.encryption.key` must be the same inode with the same size and content.
      log.begin('cleanup.6');
      log.add(keyBefore.evidence);
      const keyAfter = await files.fingerprintEncryptionKey({ plan, dataDir, step: 'cleanup.6' });
      log.add(keyAfter.evidence);
      const intact = await files.verifyEncryptionKeyIntact({ step: 'cleanup.6', plan, before: keyBefore.value, after: keyAfter.value });
      log.add(intact.evidence);
      result.encryptionKey = {
        path: keyAfter.value.path,
        intact: intact.value.intact,
        existed: keyBefore.value.exists,
        ...(keyAfter.value.ino ? { ino: keyAfter.value.ino } : {}),
        ...(keyAfter.value.size !== undefined ? { size: keyAfter.value.size } : {}),
      };

      // Step 7: the only delete this run takes (or plans) is truenas.enc; the evidence's own actions prove it.
      log.begin('cleanup.7');
      const deletes = log.progress.evidence
        .flatMap((e) => e.actions ?? [])
        .flatMap((a) => (a.kind === 'file' && a.op === 'delete' ? [a.path] : []));
      const others = deletes.filter((p) => p !== truenasPath);
      log.note(
        'cleanup.7',
        others.length === 0 ? (plan ? 'planned' : 'ok') : 'failed',
        others.length === 0
          ? `${plan ? 'Would delete' : 'Deleted'} ${deletes.length ? truenasPath : 'nothing'} and nothing else; ${joinPath(dataDir, ENCRYPTION_KEY_FILE)} was never a target.`
          : `Unexpected delete actions: ${others.join(', ')}`,
        { deletes },
      );
      if (others.length > 0) {
        throw ApplicationFailure.create({
          message: `the cleanup recorded deletes other than ${truenasPath}: ${others.join(', ')}`,
          type: 'UnexpectedDelete',
          nonRetryable: true,
        });
      }
    };
    return { result, steps };
  });
}
