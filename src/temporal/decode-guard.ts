/**
 * The worker's payload codec wrapper: a payload the worker cannot decrypt (another key, or encrypted while the
 * worker has no key file) becomes a small JSON marker instead of an exception. The workflow sees the marker as its
 * input and fails the run at once with PayloadUndecodable (src/temporal/undecodable.ts); an exception here would
 * fail the workflow task, which Temporal retries forever while the run hangs.
 *
 * Only the worker uses it: a CLI or the codec server must see the decode error itself.
 */
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec, CodecError, METADATA_KEY_ID } from './codec.js';
import { UNDECODABLE_KEY, type UndecodableMark } from './undecodable.js';

function marker(mark: UndecodableMark): Payload {
  return {
    metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') },
    data: Buffer.from(JSON.stringify({ [UNDECODABLE_KEY]: mark })),
  };
}

function keyIdOf(payload: Payload): string | undefined {
  const raw = payload.metadata?.[METADATA_KEY_ID];
  return raw ? Buffer.from(raw).toString('utf8') : undefined;
}

export class DecodeGuardCodec implements PayloadCodec {
  /** `inner` is the worker's AES codec, or undefined for a worker without a key file. */
  constructor(private readonly inner: PayloadCodec | undefined) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return this.inner ? this.inner.encode(payloads) : payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    const out: Payload[] = [];
    for (const payload of payloads) {
      if (!this.inner) {
        out.push(
          AesGcmPayloadCodec.isEncrypted(payload)
            ? marker({
                reason: `it is encrypted with key "${keyIdOf(payload) ?? '?'}" and this worker has no key file`,
                keyId: keyIdOf(payload),
              })
            : payload,
        );
        continue;
      }
      try {
        out.push(...(await this.inner.decode([payload])));
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        out.push(marker({ reason: err.message, keyId: err.keyId }));
      }
    }
    return out;
  }
}
