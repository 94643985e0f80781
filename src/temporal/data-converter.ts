/**
 * The data converter shared by the client and the worker when payload encryption is on (issue 6): the AES-256-GCM
 * payload codec plus a failure converter that moves failure messages and stack traces into payloads, so they are
 * encrypted too.
 *
 * What goes through the codec (the SDK applies payloadCodecs to every Payload it sends): workflow and activity
 * inputs and results, memo, heartbeat and failure details, signal/update/query arguments and answers, child
 * workflow inputs and results, and - with encodeCommonAttributes - failure messages and stack traces.
 * What does NOT: search attributes (the server must index them, so they stay plain text; never put a secret in
 * one), workflow ids, workflow and activity type names, task queue names, timer durations, and failure types.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { type CodecKeyRing } from '../config/codec.js';
import { readCodecKeyFile } from './codec-key-file.js';
import { AesGcmPayloadCodec } from './codec.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The failure converter's file, loaded by path by the SDK: `require()`d by the client and the worker and bundled
 * into the workflow code. From dist/ it is still the copy under src/, the only one (tsc does not copy .cjs files).
 */
export const ENCRYPTED_FAILURE_CONVERTER_PATH = resolveConverterPath();
/** The string the converter file carries (kept equal by a unit test), so a prebuilt workflow bundle can be checked for it. */
export const ENCRYPTED_FAILURE_CONVERTER_MARKER = 'pulse-runbooks:encrypted-failure-converter:v1';

function resolveConverterPath(): string {
  const name = 'encrypted-failure-converter.cjs';
  const beside = path.join(here, name);
  // Compiled to dist/src/temporal: the file lives in the source tree next to dist.
  return existsSync(beside) ? beside : path.resolve(here, '..', '..', '..', 'src', 'temporal', name);
}

/** The DataConverter for Client and Worker options: the codec, and failure attributes encoded so they are encrypted. */
export function encryptedDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH };
}

export interface LoadedCodec {
  codec: AesGcmPayloadCodec;
  dataConverter: DataConverter;
  keysFile: string;
  /** The keys, for the worker's advert and the CLI's check against it (src/temporal/codec-advert.ts). */
  ring: CodecKeyRing;
  /** For the caller to print (a key file that group or others can read). */
  warnings: string[];
}

/** Reads a key file (validated, mode checked) and builds the codec and the data converter from it. */
export function loadCodec(keysFile: string): LoadedCodec {
  const loaded = readCodecKeyFile(keysFile);
  const codec = new AesGcmPayloadCodec(loaded.ring, `codec key file ${loaded.path}`);
  return { codec, dataConverter: encryptedDataConverter(codec), keysFile: loaded.path, ring: loaded.ring, warnings: loaded.warnings };
}

/**
 * Whether workflow code was bundled with the encrypted failure converter. Without it the workflow sandbox writes
 * the workflow's own failures (WorkflowExecutionFailed) with a plain-text message even though the codec is on.
 */
export function bundleHasEncryptedFailureConverter(code: string): boolean {
  return code.includes(ENCRYPTED_FAILURE_CONVERTER_MARKER);
}
