/**
 * `<dataDir>/truenas.enc` the way ConfigPersistence reads and writes it (internal/config/persistence.go):
 * - save: json.MarshalIndent(instances, "", "  ") → encrypt → write `truenas.enc.tmp` (0600) → rename.
 * - load: a missing or empty file is an empty list; a file that fails to decrypt is parsed as plaintext
 *   (Pulse's fallback), so a wrong key ends in a JSON decode error, not silent data.
 * The file is read on every call: deleting it empties the list at once, as in Pulse.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryptoManager } from './crypto.js';
import { goDecode, goKind, goMarshal } from './go-json.js';
import { decodeInstance, instanceToWire, type TrueNASInstance } from './instance.js';

export const TRUENAS_FILE = 'truenas.enc';

export class TrueNASStore {
  readonly path: string;

  constructor(
    dataDir: string,
    private readonly crypto: CryptoManager,
  ) {
    this.path = join(dataDir, TRUENAS_FILE);
  }

  /** Throws with Pulse's error text ("decode config file …: …") when the file cannot be read. */
  load(): TrueNASInstance[] {
    let data: Buffer;
    try {
      data = readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`read config file ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    if (data.length === 0) return [];
    let text: string;
    try {
      text = this.crypto.decrypt(data).toString('utf8');
    } catch {
      text = data.toString('utf8'); // Pulse logs "Failed to decrypt config - falling back to plaintext"
    }
    const parsed = goDecode(text);
    if (!parsed.ok) throw new Error(`decode config file ${this.path}: ${parsed.error}`);
    if (parsed.value === null) return [];
    if (!Array.isArray(parsed.value)) {
      throw new Error(
        `decode config file ${this.path}: json: cannot unmarshal ${goKind(parsed.value)} into Go value of type []config.TrueNASInstance`,
      );
    }
    return parsed.value.map((item) => {
      const decoded = decodeInstance(item);
      if (!decoded.ok) throw new Error(`decode config file ${this.path}: ${decoded.error}`);
      return decoded.instance;
    });
  }

  save(instances: TrueNASInstance[]): void {
    const json = goMarshal(instances.map(instanceToWire), '  ');
    let encrypted: Buffer;
    try {
      encrypted = this.crypto.encrypt(Buffer.from(json, 'utf8'));
    } catch (err) {
      throw new Error(`encrypt config data for ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, encrypted, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
