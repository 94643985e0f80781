import { createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoManager, KEY_FILE } from '../../src/emulator/crypto.js';
import { zeroInstance, type TrueNASInstance } from '../../src/emulator/instance.js';
import { TrueNASStore, TRUENAS_FILE } from '../../src/emulator/store.js';

describe('emulator store: truenas.enc encrypted like Pulse', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'emu-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sample = (): TrueNASInstance => ({
    ...zeroInstance(),
    id: 'c1',
    name: 'nas-1',
    host: 'https://nas.local',
    apiKey: 'api-key-secret-123',
    enabled: true,
  });

  it('creates a 0600 base64 key of 32 bytes and hardens the data dir to 0700', () => {
    CryptoManager.open(dir);
    const keyPath = join(dir, KEY_FILE);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const text = readFileSync(keyPath, 'utf8');
    expect(text).toMatch(/^[A-Za-z0-9+/]+=*$/); // no newline
    expect(Buffer.from(text, 'base64')).toHaveLength(32);
  });

  it('reuses an existing key (whitespace tolerated) instead of replacing it', () => {
    const key = randomBytes(32).toString('base64');
    writeFileSync(join(dir, KEY_FILE), `${key}\n`);
    const store = new TrueNASStore(dir, CryptoManager.open(dir));
    store.save([sample()]);
    expect(readFileSync(join(dir, KEY_FILE), 'utf8').trim()).toBe(key);
  });

  it('round-trips, and the file is nonce||AES-GCM(MarshalIndent JSON)||tag, not plaintext', () => {
    const store = new TrueNASStore(dir, CryptoManager.open(dir));
    store.save([sample()]);
    const raw = readFileSync(join(dir, TRUENAS_FILE));
    expect(raw.includes(Buffer.from('api-key-secret-123'))).toBe(false);
    expect(raw.includes(Buffer.from('nas.local'))).toBe(false);
    expect(statSync(join(dir, TRUENAS_FILE)).mode & 0o777).toBe(0o600);
    expect(store.load()).toEqual([sample()]);

    // Decrypt independently with the documented layout to prove the format, not just the round trip.
    const key = Buffer.from(readFileSync(join(dir, KEY_FILE), 'utf8'), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    expect(plain).toBe(
      '[\n  {\n    "id": "c1",\n    "name": "nas-1",\n    "host": "https://nas.local",\n    "apiKey": "api-key-secret-123",\n    "useHttps": false,\n    "enabled": true\n  }\n]',
    );
  });

  it('fails to load with a wrong key (decode error, no silent data)', () => {
    new TrueNASStore(dir, CryptoManager.open(dir)).save([sample()]);
    writeFileSync(join(dir, KEY_FILE), randomBytes(32).toString('base64'));
    const other = new TrueNASStore(dir, CryptoManager.open(dir));
    expect(() => other.load()).toThrow(/^decode config file .*truenas\.enc: (invalid character|unexpected EOF|json: cannot unmarshal)/);
  });

  it('treats a missing or empty file as an empty list and reads plaintext JSON as Pulse falls back to it', () => {
    const store = new TrueNASStore(dir, CryptoManager.open(dir));
    expect(store.load()).toEqual([]);
    writeFileSync(join(dir, TRUENAS_FILE), '');
    expect(store.load()).toEqual([]);
    writeFileSync(join(dir, TRUENAS_FILE), JSON.stringify([{ id: 'p', host: 'h', apiKey: 'k', enabled: true }]));
    expect(store.load()).toEqual([{ ...zeroInstance(), id: 'p', host: 'h', apiKey: 'k', enabled: true }]);
  });

  it('refuses to encrypt once the key file was deleted (orphaned-data guard)', () => {
    const store = new TrueNASStore(dir, CryptoManager.open(dir));
    unlinkSync(join(dir, KEY_FILE));
    expect(() => store.save([sample()])).toThrow('encryption key file deleted - cannot encrypt (would create orphaned data)');
  });

  it('will not invent a new key when other encrypted Pulse data exists', () => {
    writeFileSync(join(dir, 'nodes.enc'), 'x');
    expect(() => CryptoManager.open(dir)).toThrow(/encrypted data exists \(nodes\.enc\)/);
  });
});
