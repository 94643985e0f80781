/**
 * `config.TrueNASInstance` (internal/config/truenas.go) as Pulse decodes, validates, redacts and
 * encodes it. Decoding follows Go's encoding/json: keys match field tags exactly or case-insensitively
 * ("APIKEY" fills apiKey, "api_key" fills nothing), unknown keys are ignored, null leaves a field alone,
 * and the first type mismatch is reported with Go's message after the rest of the object is applied.
 */
import { goKind } from './go-json.js';

export const SECRET_MASK = '********';

export interface TrueNASInstance {
  id: string;
  name: string;
  host: string;
  port: number;
  apiKey: string;
  username: string;
  password: string;
  useHttps: boolean;
  insecureSkipVerify: boolean;
  fingerprint: string;
  enabled: boolean;
  pollIntervalSeconds: number;
}

type FieldKind = 'string' | 'int' | 'bool';

/** Go struct order, JSON tag, kind and omitempty: the order of keys in every encoded instance. */
const FIELDS: ReadonlyArray<{ key: keyof TrueNASInstance; kind: FieldKind; omitEmpty: boolean }> = [
  { key: 'id', kind: 'string', omitEmpty: false },
  { key: 'name', kind: 'string', omitEmpty: false },
  { key: 'host', kind: 'string', omitEmpty: false },
  { key: 'port', kind: 'int', omitEmpty: true },
  { key: 'apiKey', kind: 'string', omitEmpty: true },
  { key: 'username', kind: 'string', omitEmpty: true },
  { key: 'password', kind: 'string', omitEmpty: true },
  { key: 'useHttps', kind: 'bool', omitEmpty: false },
  { key: 'insecureSkipVerify', kind: 'bool', omitEmpty: true },
  { key: 'fingerprint', kind: 'string', omitEmpty: true },
  { key: 'enabled', kind: 'bool', omitEmpty: false },
  { key: 'pollIntervalSeconds', kind: 'int', omitEmpty: true },
];

export function zeroInstance(): TrueNASInstance {
  return {
    id: '',
    name: '',
    host: '',
    port: 0,
    apiKey: '',
    username: '',
    password: '',
    useHttps: false,
    insecureSkipVerify: false,
    fingerprint: '',
    enabled: false,
    pollIntervalSeconds: 0,
  };
}

/** NewTrueNASInstance() defaults that v6 POST decodes onto (a4a223a7c). */
export function v6DefaultInstance(): TrueNASInstance {
  return { ...zeroInstance(), useHttps: true, enabled: true, pollIntervalSeconds: 60 };
}

export type DecodeInstanceResult = { ok: true; instance: TrueNASInstance } | { ok: false; error: string };

function findField(key: string) {
  return FIELDS.find((f) => f.key === key) ?? FIELDS.find((f) => f.key.toLowerCase() === key.toLowerCase());
}

/** Applies an already-parsed JSON value onto `base`, the way json.Decode fills a struct. */
export function decodeInstance(value: unknown, base: TrueNASInstance = zeroInstance()): DecodeInstanceResult {
  const out = { ...base };
  if (value === null) return { ok: true, instance: out };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: `json: cannot unmarshal ${goKind(value)} into Go value of type config.TrueNASInstance` };
  }
  let firstError: string | undefined;
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const field = findField(key);
    if (!field || raw === null) continue;
    const mismatch = (shown: string) =>
      `json: cannot unmarshal ${shown} into Go struct field TrueNASInstance.${field.key} of type ${field.kind}`;
    if (field.kind === 'string' && typeof raw === 'string') (out[field.key] as string) = raw;
    else if (field.kind === 'bool' && typeof raw === 'boolean') (out[field.key] as boolean) = raw;
    else if (field.kind === 'int' && typeof raw === 'number' && Number.isInteger(raw)) (out[field.key] as number) = raw;
    else if (!firstError) {
      firstError = mismatch(typeof raw === 'number' ? `number ${raw}` : goKind(raw));
    }
  }
  return firstError ? { ok: false, error: firstError } : { ok: true, instance: out };
}

/** normalizeTrueNASInstance: trims the text fields; v6 also applies the stored defaults. */
export function normalizeInstance(instance: TrueNASInstance, applyDefaults: boolean): TrueNASInstance {
  const out = {
    ...instance,
    name: instance.name.trim(),
    host: instance.host.trim(),
    apiKey: instance.apiKey.trim(),
    username: instance.username.trim(),
    password: instance.password.trim(),
    fingerprint: instance.fingerprint.trim(),
  };
  if (applyDefaults && out.pollIntervalSeconds <= 0) out.pollIntervalSeconds = 60;
  return out;
}

/** Validate(): the two messages are returned verbatim in the 400 `validation_error` envelope. */
export function validateInstance(instance: TrueNASInstance): string | undefined {
  if (instance.host.trim() === '') return 'truenas host is required';
  if (instance.apiKey.trim() !== '') return undefined;
  if (instance.username.trim() === '' || instance.password.trim() === '') {
    return 'truenas credentials are required: provide api key or username/password';
  }
  return undefined;
}

export function redactInstance(instance: TrueNASInstance): TrueNASInstance {
  return {
    ...instance,
    apiKey: instance.apiKey.trim() !== '' ? SECRET_MASK : instance.apiKey,
    password: instance.password.trim() !== '' ? SECRET_MASK : instance.password,
  };
}

/** PreserveMaskedSecrets: a "********" in an update or test body keeps the stored secret. */
export function preserveMaskedSecrets(update: TrueNASInstance, stored: TrueNASInstance): TrueNASInstance {
  return {
    ...update,
    apiKey: update.apiKey.trim() === SECRET_MASK ? stored.apiKey : update.apiKey,
    password: update.password.trim() === SECRET_MASK ? stored.password : update.password,
  };
}

/** The instance as an ordered plain object with Go's omitempty applied, ready for goMarshal. */
export function instanceToWire(instance: TrueNASInstance): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = instance[f.key];
    if (f.omitEmpty && (v === '' || v === 0 || v === false)) continue;
    out[f.key] = v;
  }
  return out;
}
