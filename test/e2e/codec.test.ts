/**
 * Encrypted history end to end (issue 6): the real dev server, a real worker and client sharing the encrypted data
 * converter, the Kill-Switch against the Pulse emulator as a real process. The raw history is then read by a client
 * WITHOUT the codec, as anyone with access to the Temporal server (or its database) would read it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cachedWorkflowBundle } from '../../bench/support/bundle-cache.js';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { KillSwitchInputSchema } from '../../src/config/kill-switch.js';
import { keyRingFromFile } from '../../src/config/codec.js';
import { AesGcmPayloadCodec } from '../../src/temporal/codec.js';
import { ENCRYPTED_FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter.js';
import { workflowsPath } from '../../src/temporal/workflows-path.js';
import { createWorker } from '../../src/worker.js';
import { workflowBundle } from '../../bench/support/time-skipping.js';
import {
  pulseWithConnections,
  temporalAddress,
  temporalHarness,
  uniqueId,
  type PulseFixture,
  type TemporalHarness,
} from '../support/e2e.js';
import { runError, startAndSettle } from '../support/settle.js';
import { KILL_SWITCH_WORKFLOW, type KillSwitchWorkflow } from '../../workflows/kill-switch.messages.js';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

const codec = new AesGcmPayloadCodec(keyRingFromFile({ current: 'e2e-key', keys: { 'e2e-key': randomBytes(32).toString('base64') } }));

/** Bytes shown as text, so a plaintext value inside any payload or field is visible to `includes`. */
function plainView(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (Array.isArray(value)) return value.map(plainView);
  if (value && typeof value === 'object') {
    if (typeof (value as { toNumber?: unknown }).toNumber === 'function' && 'low' in value) return String(value);
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, plainView(v)]),
    );
  }
  return value;
}

/**
 * The history without the two parts no payload codec can encrypt: search attributes (the server indexes them) and
 * the details of patch markers (`patched()`), which the SDK's Rust core writes itself and which hold only the
 * patch id. Both are checked on their own below.
 */
function withoutUncodedParts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUncodedParts);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'searchAttributes' && k !== 'upsertWorkflowSearchAttributesEventAttributes' && k !== 'patch-data')
        .map(([k, v]) => [k, withoutUncodedParts(v)]),
    );
  }
  return value;
}

/** The plain text of every patch marker: nothing but the patch id and its deprecated flag. */
function patchMarkers(history: History): unknown[] {
  return (history.events ?? [])
    .flatMap((e) => payloadsOf(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads))
    .map((p) => JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString()));
}
const payloadsOf = <T>(list: T[] | null | undefined): T[] => list ?? [];

interface FoundPayload {
  path: string;
  encoding: string;
  keyId?: string;
}

/** Every Payload in the history (anything with a metadata map holding an encoding), with where it sits. */
function payloadsIn(value: unknown, path = ''): FoundPayload[] {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => payloadsIn(v, `${path}[${i}]`));
  const obj = value as Record<string, unknown>;
  const metadata = obj.metadata as Record<string, Uint8Array> | undefined;
  if (metadata && metadata.encoding instanceof Uint8Array) {
    const keyId = metadata['encryption-key-id'];
    return [{ path, encoding: Buffer.from(metadata.encoding).toString(), ...(keyId ? { keyId: Buffer.from(keyId).toString() } : {}) }];
  }
  return Object.entries(obj).flatMap(([k, v]) => payloadsIn(v, path ? `${path}.${k}` : k));
}

/** Every Failure in the history (anything with a message and a failure-info or encoded attributes). */
function failuresIn(value: unknown): Array<Record<string, unknown>> {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return [];
  if (Array.isArray(value)) return value.flatMap(failuresIn);
  const obj = value as Record<string, unknown>;
  const own = 'encodedAttributes' in obj || 'applicationFailureInfo' in obj || 'activityFailureInfo' in obj ? [obj] : [];
  return [...own, ...Object.values(obj).flatMap(failuresIn)];
}

function killSwitchInput(fx: PulseFixture, retry = { maximumAttempts: 5, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 1 }) {
  return KillSwitchInputSchema.parse({
    pulse: { url: fx.emulator.url, token: { env: fx.tokenEnv }, timeoutMs: 3000 },
    tickSeconds: 1,
    staleThresholdSeconds: 10,
    verifyEverySeconds: 0.5,
    retry,
  });
}

async function run(harness: TemporalHarness, args: ReturnType<typeof killSwitchInput>, memo: Record<string, unknown>) {
  const outcome = await startAndSettle<KillSwitchWorkflow>(harness, KILL_SWITCH_WORKFLOW, args, { idPrefix: 'codec-ks', memo });
  return { handle: outcome.handle, outcome };
}

describe('encrypted history on the dev server', () => {
  let encrypted: TemporalHarness;
  let rawConnection: Connection;
  let raw: Client;
  let fx: PulseFixture | undefined;
  beforeAll(async () => {
    encrypted = await temporalHarness({ codec });
    rawConnection = await Connection.connect({ address: temporalAddress() });
    raw = new Client({ connection: rawConnection });
  });
  afterAll(async () => {
    await encrypted?.close();
    await rawConnection?.close();
  });
  afterEach(async () => {
    await fx?.stop();
    fx = undefined;
  });

  /** The raw history, read by a client without the codec: what the server and its database hold. */
  const rawHistory = (workflowId: string): Promise<History> => raw.workflow.getHandle(workflowId).fetchHistory();

  it('a kill-switch run stores every payload encrypted; only a client with the codec reads it', async () => {
    fx = await pulseWithConnections(2);
    const secrets = [fx.emulator.url, ...fx.ids];
    const memo = { pulseUrl: fx.emulator.url, firstConnection: fx.ids[0] };
    const { handle, outcome } = await run(encrypted, killSwitchInput(fx), memo);
    if (!outcome.ok) throw outcome.error;

    // The client with the codec reads the result and the memo as if nothing were encrypted.
    expect(outcome.result.deleted.sort()).toEqual([...fx.ids].sort());
    expect(outcome.result.pulseUrl).toBe(fx.emulator.url);
    expect((await handle.describe()).memo).toEqual(memo);

    const history = await rawHistory(handle.workflowId);
    const payloads = payloadsIn(withoutUncodedParts(history));
    // Every kind the issue names is present, and every one is ciphertext under the current key id.
    const kinds = [
      /workflowExecutionStartedEventAttributes\.input/,
      /workflowExecutionStartedEventAttributes\.memo\.fields\.pulseUrl/,
      /activityTaskScheduledEventAttributes\.input/,
      /activityTaskCompletedEventAttributes\.result/,
      /workflowExecutionCompletedEventAttributes\.result/,
    ];
    for (const kind of kinds) expect(payloads.filter((p) => kind.test(p.path)).length).toBeGreaterThan(0);
    expect(payloads.length).toBeGreaterThanOrEqual(10);
    expect(payloads.filter((p) => p.encoding !== 'binary/encrypted' || p.keyId !== 'e2e-key')).toEqual([]);

    // No known plaintext anywhere in the history, bytes included, outside the search attributes.
    const text = JSON.stringify(plainView(withoutUncodedParts(history)));
    for (const s of secrets) expect(text).not.toContain(s);
    // What the codec cannot cover, stated as a fact: the PulseTarget search attribute holds the URL in clear.
    const searchAttributes = JSON.stringify(plainView(history.events?.map((e) => e.upsertWorkflowSearchAttributesEventAttributes)));
    expect(searchAttributes).toContain(fx.emulator.url);
    // And patch markers hold their patch id only.
    for (const marker of patchMarkers(history)) expect(Object.keys(marker as object).sort()).toEqual(['deprecated', 'id']);

    // The client without the codec cannot read the result.
    await expect(raw.workflow.getHandle(handle.workflowId).result()).rejects.toThrow(/binary\/encrypted/);
  });

  it('a failing run stores the failure message and stack trace encrypted', async () => {
    fx = await pulseWithConnections(1);
    const args = killSwitchInput(fx, { maximumAttempts: 2, initialIntervalSeconds: 0.2, maximumIntervalSeconds: 0.5 });
    const url = fx.emulator.url;
    await fx.emulator.stop();
    fx.emulator = { ...fx.emulator, stop: async () => undefined };
    const { handle, outcome } = await run(encrypted, args, {});
    expect(outcome.ok).toBe(false);

    // With the codec: the real error, message and type intact.
    const failure = runError(outcome);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = failure.cause?.cause as { type?: string; message?: string };
    expect(cause.type).toBe('PulseUnavailableError');
    expect(cause.message).toMatch(/GET .*\/api\/truenas\/connections/);

    const history = await rawHistory(handle.workflowId);
    const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes;
    const activityFailed = history.events?.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes;
    expect(failed?.failure).toBeDefined();
    expect(activityFailed?.failure).toBeDefined();
    // Both the worker's activity failure and the workflow sandbox's own failure, with their causes.
    const failures = failuresIn(withoutUncodedParts(history));
    expect(failures.length).toBeGreaterThanOrEqual(3);
    for (const f of failures) {
      expect(f.message).toBe('Encoded failure');
      expect(f.stackTrace ?? '').toBe('');
      const attrs = payloadsIn(f.encodedAttributes);
      expect(attrs).toEqual([{ path: '', encoding: 'binary/encrypted', keyId: 'e2e-key' }]);
    }
    // The failure type stays in clear (it drives retry policy on the server); the message does not.
    expect(JSON.stringify(plainView(failed))).toContain('PulseUnavailableError');
    const text = JSON.stringify(plainView(withoutUncodedParts(history)));
    expect(text).not.toContain(url);
    expect(text).not.toContain('api/truenas/connections');
    expect(payloadsIn(withoutUncodedParts(history)).filter((p) => p.encoding !== 'binary/encrypted')).toEqual([]);
  });

  it('control: without the codec the same checks find the plaintext (the detector works)', async () => {
    const plain = await temporalHarness();
    try {
      fx = await pulseWithConnections(1);
      const input = { ...killSwitchInput(fx), plan: true };
      const { handle, outcome } = await run(plain, input, { pulseUrl: fx.emulator.url });
      if (!outcome.ok) throw outcome.error;
      const history = await rawHistory(handle.workflowId);
      const text = JSON.stringify(plainView(withoutUncodedParts(history)));
      expect(text).toContain(fx.emulator.url);
      expect(text).toContain(fx.ids[0]);
      expect(payloadsIn(withoutUncodedParts(history)).every((p) => p.encoding === 'json/plain')).toBe(true);
    } finally {
      await plain.close();
    }
  });
});

describe('createWorker with a codec and a prebuilt bundle (PULSE_RUNBOOKS_WORKFLOW_BUNDLE)', () => {
  let dir: string;
  const saved = process.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'codec-bundle-'));
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE;
    else process.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  async function workerWarnings(code: string): Promise<string[]> {
    const file = path.join(dir, `bundle-${randomBytes(4).toString('hex')}.js`);
    writeFileSync(file, code);
    process.env.PULSE_RUNBOOKS_WORKFLOW_BUNDLE = file;
    const warnings: string[] = [];
    const { worker, connection } = await createWorker(
      { address: temporalAddress(), namespace: 'default', taskQueue: uniqueId('codec-bundle') },
      {},
      { codec, warn: (line) => warnings.push(line) },
    );
    // Start it and stop it again: the bundle is loaded and the worker polls, then shuts down cleanly.
    await worker.runUntil(new Promise((r) => setTimeout(r, 200)));
    await connection.close();
    return warnings;
  }

  it('uses a bundle built with the encrypted failure converter as it is', async () => {
    const { code } = await cachedWorkflowBundle({ workflowsPath: workflowsPath(), failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH });
    expect(await workerWarnings(code)).toEqual([]);
  });

  it('does not use a bundle built without it (failure messages would be plain text), and says so', async () => {
    const { code } = await workflowBundle();
    const warnings = await workerWarnings(code);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/was built without the encrypted failure converter; bundling the workflows from source instead/);
  });
});
