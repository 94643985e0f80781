/**
 * Input of the Data Cleanup procedure (runbook §5) and the failure types its activities raise.
 * Imported by workflows too: zod only, no node: imports.
 */
import { z } from 'zod';
import { absolutePath } from './rollback.js';

/** Pulse's default data directory when PULSE_DATA_DIR is unset (internal/utils/paths.go). */
export const DEFAULT_DATA_DIR = '/etc/pulse';
/** The TrueNAS connection store; the only file the cleanup removes. */
export const TRUENAS_FILE = 'truenas.enc';
/** The key that encrypts every Pulse secret (and feeds the billing HMAC); never touched. */
export const ENCRYPTION_KEY_FILE = '.encryption.key';

export const CLEANUP_FAILURES = {
  invalidInput: 'InvalidCleanupInput',
  dataDirInvalid: 'DataDirInvalid',
  trueNASFileMissing: 'TrueNASFileMissing',
  trueNASFileUnsafe: 'TrueNASFileUnsafe',
  trueNASFileChanged: 'TrueNASFileChanged',
  unlinkRaced: 'UnlinkRaced',
  encryptionKeyChanged: 'EncryptionKeyChanged',
  fileAccessFailed: 'FileAccessFailed',
} as const;

export type CleanupFailureType = (typeof CLEANUP_FAILURES)[keyof typeof CLEANUP_FAILURES];

/** An I/O error that is not about permissions may pass (a busy NFS mount); everything else needs a person. */
export const CLEANUP_RETRYABLE_TYPES: readonly string[] = [CLEANUP_FAILURES.fileAccessFailed];

export const DataDirSchema = absolutePath('dataDir', DEFAULT_DATA_DIR);

export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expectedSha256 must be the 64 lowercase hex digits recorded by inspectTrueNASFile');

export const CleanupInputSchema = z
  .object({
    /** Plan mode: the files are inspected (lstat, hash) but nothing is removed. */
    plan: z.boolean().default(false),
    /** Explicit data directory; otherwise the worker's PULSE_DATA_DIR, otherwise /etc/pulse. */
    dataDir: DataDirSchema.optional(),
    /** Accept a data directory without truenas.enc (the runbook's step 3 otherwise requires it to exist). */
    allowMissing: z.boolean().default(false),
  })
  .strict();

export type CleanupInput = z.infer<typeof CleanupInputSchema>;
export type CleanupInputRaw = z.input<typeof CleanupInputSchema>;

export const DataDirInputSchema = z.object({ plan: z.boolean().default(false), dataDir: DataDirSchema.optional() }).strict();
export type DataDirInputRaw = z.input<typeof DataDirInputSchema>;

/** The activities after cleanup.1 work on the resolved directory, so every step acts on the same one. */
export const ResolvedDataDirSchema = z.object({ plan: z.boolean().default(false), dataDir: DataDirSchema }).strict();
export type ResolvedDataDirInputRaw = z.input<typeof ResolvedDataDirSchema>;

export const RemoveTrueNASInputSchema = z
  .object({
    plan: z.boolean().default(false),
    dataDir: DataDirSchema,
    allowMissing: z.boolean().default(false),
    /**
     * The sha256 inspectTrueNASFile recorded (cleanup.3). It makes a retry idempotent (file gone + a recorded
     * hash = 'already-removed') and refuses to remove a file that changed since it was inspected.
     */
    expectedSha256: Sha256Schema.optional(),
  })
  .strict();
export type RemoveTrueNASInputRaw = z.input<typeof RemoveTrueNASInputSchema>;
