/**
 * The payload codec that encrypts workflow history (issue 6): AES-256-GCM from node:crypto, a fresh random 12-byte
 * IV per payload, the key id in the payload's metadata.
 *
 * Each payload (its metadata and data, serialised as the Temporal Payload protobuf, so the original encoding comes
 * back exactly) is encrypted whole. What Temporal stores is:
 *   metadata: encoding=binary/encrypted, encryption-cipher=AES-256-GCM, encryption-key-id=<id>
 *   data:     IV (12 bytes) | ciphertext | GCM tag (16 bytes)
 * The key id and cipher are bound into the tag as additional data, so changing them is detected too.
 *
 * Rotation: encode always uses the current key; decode uses whichever key the payload names, so keeping old keys in
 * the key file keeps old history readable. Payloads that are not binary/encrypted (written before encryption was
 * turned on) pass through decode unchanged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { CodecKeyRing } from '../config/codec.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
export const METADATA_CIPHER = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** A payload that cannot be decrypted. The message names the key id, never a key. */
export class CodecError extends Error {
  constructor(
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

const utf8 = (bytes: Uint8Array | null | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);
const bytesOf = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const additionalData = (keyId: string): Buffer => Buffer.from(`${CIPHER}:${keyId}`, 'utf8');

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly ring: CodecKeyRing;

  /** `source` names where the keys came from in errors ("codec key file /etc/pulse-runbooks/keys.json"). */
  constructor(
    ring: CodecKeyRing,
    private readonly source = 'the codec key file',
  ) {
    const current = ring.keys.get(ring.currentKeyId);
    if (!current) throw new CodecError(`${source}: the current key id "${ring.currentKeyId}" has no key`, ring.currentKeyId);
    for (const [id, key] of ring.keys) {
      if (key.length !== 32) throw new CodecError(`${source}: key "${id}" is ${key.length} bytes; AES-256 needs 32`, id);
    }
    // A private copy: a caller that later changes its map cannot change what this codec encrypts with.
    this.ring = { currentKeyId: ring.currentKeyId, keys: new Map(ring.keys) };
  }

  get currentKeyId(): string {
    return this.ring.currentKeyId;
  }

  get keyIds(): string[] {
    return [...this.ring.keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encryptOne(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decryptOne(p));
  }

  /** True when the payload is one this codec (or another key of it) wrote. */
  static isEncrypted(payload: Payload): boolean {
    return utf8(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
  }

  private encryptOne(payload: Payload): Payload {
    const keyId = this.ring.currentKeyId;
    const key = this.ring.keys.get(keyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(keyId));
    const plain = ProtoPayload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: bytesOf(ENCRYPTED_ENCODING),
        [METADATA_CIPHER]: bytesOf(CIPHER),
        [METADATA_KEY_ID]: bytesOf(keyId),
      },
      data: sealed,
    };
  }

  private decryptOne(payload: Payload): Payload {
    if (!AesGcmPayloadCodec.isEncrypted(payload)) return payload;
    const keyId = utf8(payload.metadata?.[METADATA_KEY_ID]);
    if (!keyId) {
      throw new CodecError(`an encrypted payload has no "${METADATA_KEY_ID}" metadata, so no key can be chosen to decrypt it`);
    }
    const cipherName = utf8(payload.metadata?.[METADATA_CIPHER]) ?? CIPHER;
    if (cipherName !== CIPHER) {
      throw new CodecError(
        `a payload encrypted with key id "${keyId}" uses cipher "${cipherName}"; this codec only reads ${CIPHER}`,
        keyId,
      );
    }
    const key = this.ring.keys.get(keyId);
    if (!key) {
      throw new CodecError(
        `a payload is encrypted with key id "${keyId}", which is not in ${this.source} (it has: ${this.keyIds.join(', ')}); ` +
          `add the key "${keyId}" back under "keys" to read it (rotation keeps old keys for exactly this)`,
        keyId,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new CodecError(
        `a payload encrypted with key id "${keyId}" is truncated (${data.length} bytes): it was corrupted or tampered with`,
        keyId,
      );
    }
    const iv = data.subarray(0, IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const body = data.subarray(IV_BYTES, data.length - TAG_BYTES);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(keyId));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      // node's message ("Unsupported state or unable to authenticate data") says nothing useful to an operator.
      throw new CodecError(
        `a payload encrypted with key id "${keyId}" failed authentication: it was tampered with or corrupted, ` +
          `or the key stored as "${keyId}" in ${this.source} is not the key it was written with`,
        keyId,
      );
    }
    const decoded = ProtoPayload.decode(plain);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}
