/**
 * The AES-256-GCM payload codec and its key file: round trips through the SDK's own converter, rotation, tampering,
 * unknown key ids, the key file schema and its mode. Real files in a temp dir, real node:crypto.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CodecKeyFileSchema, keyRingFromFile, type CodecKeyRing } from '../../src/config/codec.js';
import { createKeyFile, ensureKeyFile, readCodecKeyFile, resolveCodecKeysFile, rotateKeyFile } from '../../src/temporal/codec-key-file.js';
import { ConfigError } from '../../src/config/load.js';
import { AesGcmPayloadCodec, CodecError, ENCRYPTED_ENCODING, METADATA_KEY_ID } from '../../src/temporal/codec.js';
import {
  bundleHasEncryptedFailureConverter,
  ENCRYPTED_FAILURE_CONVERTER_MARKER,
  ENCRYPTED_FAILURE_CONVERTER_PATH,
  encryptedDataConverter,
  loadCodec,
} from '../../src/temporal/data-converter.js';

const key = () => randomBytes(32).toString('base64');
const text = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
/** The error a promise rejects with; a promise that resolves fails the test. */
async function rejection(p: Promise<unknown>): Promise<CodecError> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as CodecError,
  );
}
const ring = (current: string, keys: Record<string, string>): CodecKeyRing => keyRingFromFile({ current, keys });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'codec-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('AesGcmPayloadCodec', () => {
  const secretValue = { pulseUrl: 'http://pulse.internal:7655', ids: ['conn-7f3a9c'] };

  it('round-trips a payload exactly, storing only ciphertext with the key id in the metadata', async () => {
    const codec = new AesGcmPayloadCodec(ring('2026-11', { '2026-11': key() }));
    const plain = defaultPayloadConverter.toPayload(secretValue);
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted.metadata?.[METADATA_KEY_ID])).toBe('2026-11');
    expect(text(encrypted.metadata?.['encryption-cipher'])).toBe('AES-256-GCM');
    // Neither the value nor its original encoding is readable in what Temporal would store.
    const stored = Buffer.from(encrypted.data!).toString('latin1');
    expect(stored).not.toContain('pulse.internal');
    expect(stored).not.toContain('json/plain');
    const [decoded] = await codec.decode([encrypted]);
    expect(text(decoded.metadata?.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(secretValue);
  });

  it('uses a fresh IV per payload: the same value encrypts differently each time', async () => {
    const codec = new AesGcmPayloadCodec(ring('k', { k: key() }));
    const p = defaultPayloadConverter.toPayload('same');
    const [a, b] = await codec.encode([p, p]);
    expect(Buffer.from(a.data!).subarray(0, 12).equals(Buffer.from(b.data!).subarray(0, 12))).toBe(false);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
    expect((await codec.decode([a, b])).map((x) => defaultPayloadConverter.fromPayload(x))).toEqual(['same', 'same']);
  });

  it('round-trips binary, null and empty payloads', async () => {
    const codec = new AesGcmPayloadCodec(ring('k', { k: key() }));
    const values = [new Uint8Array([0, 1, 2, 255]), null, undefined, ''];
    const payloads = values.map((v) => defaultPayloadConverter.toPayload(v));
    const back = await codec.decode(await codec.encode(payloads));
    expect(back.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(values);
  });

  it('leaves payloads that were never encrypted alone on decode (history from before encryption)', async () => {
    const codec = new AesGcmPayloadCodec(ring('k', { k: key() }));
    const plain: Payload = defaultPayloadConverter.toPayload({ old: true });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('rotation: old payloads still decode, new ones carry the new key id', async () => {
    const oldKey = key();
    const before = new AesGcmPayloadCodec(ring('2026-05', { '2026-05': oldKey }));
    const [old] = await before.encode([defaultPayloadConverter.toPayload('written before rotation')]);

    const after = new AesGcmPayloadCodec(ring('2026-11', { '2026-11': key(), '2026-05': oldKey }));
    expect(defaultPayloadConverter.fromPayload((await after.decode([old]))[0])).toBe('written before rotation');
    const [fresh] = await after.encode([defaultPayloadConverter.toPayload('written after')]);
    expect(text(fresh.metadata?.[METADATA_KEY_ID])).toBe('2026-11');
    // The old codec cannot read the new payload: the key really changed.
    await expect(before.decode([fresh])).rejects.toThrow(/key id "2026-11", which is not in/);
  });

  it('a tampered payload fails with an error naming the key id, never the key', async () => {
    const k = key();
    const codec = new AesGcmPayloadCodec(ring('2026-11', { '2026-11': k }), 'codec key file /etc/keys.json');
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload('amount: 100')]);
    const flipped = Buffer.from(enc.data!);
    flipped[20] ^= 0x01;
    const err = await rejection(codec.decode([{ ...enc, data: flipped }]));
    expect(err).toBeInstanceOf(CodecError);
    expect(err.message).toMatch(/key id "2026-11" failed authentication: it was tampered with or corrupted/);
    expect(err.message).toContain('/etc/keys.json');
    expect(err.message).not.toContain(k);
    expect(err.message).not.toContain(Buffer.from(k, 'base64').toString('hex'));
    // Changing the key id in the metadata to another known key is caught too.
    const two = new AesGcmPayloadCodec(ring('a', { a: key(), b: key() }));
    const [fromA] = await two.encode([defaultPayloadConverter.toPayload('x')]);
    const relabelled = { ...fromA, metadata: { ...fromA.metadata, [METADATA_KEY_ID]: Buffer.from('b') } };
    await expect(two.decode([relabelled])).rejects.toThrow(/key id "b" failed authentication/);
    // A truncated payload is reported, not crashed on.
    await expect(codec.decode([{ ...enc, data: Buffer.from(enc.data!).subarray(0, 10) }])).rejects.toThrow(/key id "2026-11" is truncated/);
  });

  it('an unknown key id gives a clear error listing the ids it has, not the keys', async () => {
    const writer = new AesGcmPayloadCodec(ring('2024-01', { '2024-01': key() }));
    const [enc] = await writer.encode([defaultPayloadConverter.toPayload('x')]);
    const k = key();
    const reader = new AesGcmPayloadCodec(ring('2026-11', { '2026-11': k }), 'codec key file /k.json');
    const err = await rejection(reader.decode([enc]));
    expect(err).toBeInstanceOf(CodecError);
    expect(err.keyId).toBe('2024-01');
    expect(err.message).toBe(
      'a payload is encrypted with key id "2024-01", which is not in codec key file /k.json (it has: 2026-11); add the key "2024-01" back under "keys" to read it (rotation keeps old keys for exactly this)',
    );
    expect(err.message).not.toContain(k);
  });

  it('refuses a key ring whose keys are not 32 bytes', () => {
    expect(() => new AesGcmPayloadCodec({ currentKeyId: 'a', keys: new Map([['a', randomBytes(16)]]) })).toThrow(
      /key "a" is 16 bytes; AES-256 needs 32/,
    );
    expect(() => new AesGcmPayloadCodec({ currentKeyId: 'x', keys: new Map([['a', randomBytes(32)]]) })).toThrow(
      /current key id "x" has no key/,
    );
  });
});

describe('the key file schema', () => {
  it('accepts the documented shape', () => {
    const file = { current: '2026-11', keys: { '2026-11': key(), '2026-05': key() } };
    expect(CodecKeyFileSchema.parse(file)).toEqual(file);
  });

  it('refuses a key of the wrong length, naming the field and the fix, never the key', () => {
    const short = randomBytes(16).toString('base64');
    const r = CodecKeyFileSchema.safeParse({ current: 'a', keys: { a: short } });
    expect(r.success).toBe(false);
    const msg = JSON.stringify(r.error!.issues);
    expect(r.error!.issues[0].path).toEqual(['keys', 'a']);
    expect(msg).toMatch(/decodes to 16 bytes; AES-256 needs exactly 32/);
    expect(msg).toContain('pulse-runbook codec keygen');
    expect(msg).not.toContain(short);
    const long = randomBytes(48).toString('base64');
    expect(CodecKeyFileSchema.safeParse({ current: 'a', keys: { a: long } }).success).toBe(false);
    expect(JSON.stringify(CodecKeyFileSchema.safeParse({ current: 'a', keys: { a: 'not base64 !!' } }).error!.issues)).toMatch(
      /is not standard base64/,
    );
  });

  it('refuses a current id that has no key, bad key ids and unknown fields', () => {
    const r = CodecKeyFileSchema.safeParse({ current: 'b', keys: { a: key() } });
    expect(r.error!.issues[0]).toMatchObject({
      path: ['current'],
      message: expect.stringMatching(/names key id "b", which is not in "keys"; add that key or set "current" to one of: a/),
    });
    expect(CodecKeyFileSchema.safeParse({ current: 'a b', keys: { 'a b': key() } }).success).toBe(false);
    expect(CodecKeyFileSchema.safeParse({ current: 'a', keys: { a: key() }, key: 'x' }).success).toBe(false);
  });

  it('reading a bad file throws a ConfigError naming the file and the field', () => {
    const file = path.join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ current: 'a', keys: { a: randomBytes(31).toString('base64') } }), { mode: 0o600 });
    expect(() => readCodecKeyFile(file)).toThrow(ConfigError);
    expect(() => readCodecKeyFile(file)).toThrow(`codec key file ${file}: keys.a: decodes to 31 bytes`);
    writeFileSync(file, '{"current": "a", "keys": {"a": "c2VjcmV0LWtleS1tYXRlcmlhbA=="');
    const err = (() => {
      try {
        readCodecKeyFile(file);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/is not valid JSON/);
    expect(err?.message).not.toContain('c2VjcmV0');
    expect(() => readCodecKeyFile(path.join(dir, 'missing.json'))).toThrow(
      /does not exist: fix --codec-keys-file \/ PULSE_RUNBOOKS_CODEC_KEYS_FILE, or create one with `pulse-runbook codec keygen/,
    );
  });
});

describe('key files on disk', () => {
  it('createKeyFile writes an owner-only file with one valid key and never overwrites', () => {
    const file = path.join(dir, 'keys.json');
    const made = createKeyFile(file, { keyId: '2026-11' });
    expect(made).toEqual({ path: file, currentKeyId: '2026-11', keyIds: ['2026-11'] });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const loaded = readCodecKeyFile(file);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.ring.keys.get('2026-11')?.length).toBe(32);
    const before = readFileSync(file, 'utf8');
    expect(() => createKeyFile(file)).toThrow(/already exists: rotate it with `pulse-runbook codec keygen --rotate/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('warns about a key file that group or others can read, and names the fix', () => {
    const file = path.join(dir, 'keys.json');
    createKeyFile(file, { keyId: 'a' });
    chmodSync(file, 0o644);
    expect(readCodecKeyFile(file).warnings).toEqual([
      `codec key file ${file} has mode 0644: group or others can access it; run \`chmod 600 ${file}\` (owner only)`,
    ]);
    chmodSync(file, 0o640);
    expect(readCodecKeyFile(file).warnings[0]).toMatch(/mode 0640/);
    chmodSync(file, 0o400);
    expect(readCodecKeyFile(file).warnings).toEqual([]);
    expect(loadCodec(file).warnings).toEqual([]);
  });

  it('rotateKeyFile adds a new current key and keeps every old one, so old payloads still decode', async () => {
    const file = path.join(dir, 'keys.json');
    createKeyFile(file, { keyId: 'old' });
    const oldCodec = loadCodec(file).codec;
    const [old] = await oldCodec.encode([defaultPayloadConverter.toPayload('before')]);
    const oldKey = JSON.parse(readFileSync(file, 'utf8')).keys.old;

    const rotated = rotateKeyFile(file, { keyId: 'new' });
    expect(rotated.currentKeyId).toBe('new');
    expect(rotated.keyIds.sort()).toEqual(['new', 'old']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json.keys.old).toBe(oldKey);
    expect(json.keys.new).not.toBe(oldKey);

    const newCodec = loadCodec(file).codec;
    expect(newCodec.currentKeyId).toBe('new');
    expect(defaultPayloadConverter.fromPayload((await newCodec.decode([old]))[0])).toBe('before');
    const [fresh] = await newCodec.encode([defaultPayloadConverter.toPayload('after')]);
    expect(text(fresh.metadata?.[METADATA_KEY_ID])).toBe('new');

    expect(() => rotateKeyFile(file, { keyId: 'old' })).toThrow(/key id "old" is already in/);
    expect(() => rotateKeyFile(file, { keyId: 'bad id' })).toThrow(/--key-id: must be a key id/);
    // A default id is generated and differs from the last one, even on the same day.
    const again = rotateKeyFile(file);
    expect(again.currentKeyId).toMatch(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{6}$/);
    expect(again.keyIds).toHaveLength(3);
    expect(existsSync(`${file}.${process.pid}.partial`)).toBe(false);
  });

  it('ensureKeyFile creates the key on the first start and reuses it after', () => {
    // The data dir does not exist yet on a fresh checkout: it is created, owner-only.
    const file = path.join(dir, 'data', 'codec-keys.json');
    const first = ensureKeyFile(file);
    expect(first.created).toBe(true);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const content = readFileSync(file, 'utf8');
    const second = ensureKeyFile(file);
    expect(second).toEqual({ ...first, created: false });
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  it('resolves the key file from the flag, then the env, then the embedded default only when it exists', () => {
    const embedded = path.join(dir, 'codec-keys.json');
    expect(resolveCodecKeysFile({ codecKeysFile: 'a.json' }, { PULSE_RUNBOOKS_CODEC_KEYS_FILE: 'b.json' }, embedded)).toBe(
      path.resolve('a.json'),
    );
    expect(resolveCodecKeysFile({}, { PULSE_RUNBOOKS_CODEC_KEYS_FILE: 'b.json' }, embedded)).toBe(path.resolve('b.json'));
    expect(resolveCodecKeysFile({}, {}, embedded)).toBeUndefined();
    createKeyFile(embedded);
    expect(resolveCodecKeysFile({}, {}, embedded)).toBe(embedded);
    expect(resolveCodecKeysFile({}, {}, undefined)).toBeUndefined();
  });
});

describe('the encrypted data converter', () => {
  it('carries the codec and the failure converter that encodes messages and stack traces', async () => {
    const codec = new AesGcmPayloadCodec(ring('k', { k: key() }));
    const dc = encryptedDataConverter(codec);
    expect(dc.payloadCodecs).toEqual([codec]);
    expect(dc.failureConverterPath).toBe(ENCRYPTED_FAILURE_CONVERTER_PATH);
    const source = readFileSync(ENCRYPTED_FAILURE_CONVERTER_PATH, 'utf8');
    expect(source).toContain(`'${ENCRYPTED_FAILURE_CONVERTER_MARKER}'`);
    expect(source).toContain('encodeCommonAttributes: true');
    expect(bundleHasEncryptedFailureConverter(`x ${ENCRYPTED_FAILURE_CONVERTER_MARKER} y`)).toBe(true);
    expect(bundleHasEncryptedFailureConverter('a bundle without it')).toBe(false);
  });
});
