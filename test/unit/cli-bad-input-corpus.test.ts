/**
 * The bad-input corpus (issue 13; cases in bench/support/bad-input-corpus.ts): more than a hundred wrong inputs across
 * every command, each through the real CLI entry point (`main(argv)`, all cases in one process, see
 * test/support/cli-in-process.ts). Each must exit 2 with a message that names the flag and the fix, print no stack
 * trace and repeat no secret; and all of them together must change nothing: every file in the sandbox hashes the
 * same, and Pulse (the emulator, a real process) lists the same connections and saw no request at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnEmulator, type EmulatorProcess } from '../../src/emulator/process.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { PulseClient } from '../../src/pulse/client.js';
import { corpusCases, ENVIRONMENTS, judge, writeSandboxFiles, type CorpusCase } from '../../bench/support/bad-input-corpus.js';
import { runCliCases, type CliResult } from '../support/cli-in-process.js';

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, name);
    const st = statSync(p);
    out[name] = st.isFile() ? `${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}` : 'dir';
  }
  return out;
}

let dir: string;
let emulator: EmulatorProcess;
let pulse: PulseClient;
let cases: CorpusCase[];
let files: Record<string, string>;
let results: CliResult[];
let before: Record<string, string>;
let connectionsBefore: unknown;
const token = randomBytes(32).toString('hex');
const tokenEnv = `PULSE_CORPUS_TOKEN_${randomBytes(4).toString('hex').toUpperCase()}`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bad-input-'));
  files = writeSandboxFiles(dir);
  process.env[tokenEnv] = token;
  emulator = await spawnEmulator({ enableTrueNAS: 'true', tokens: [{ token, scopes: ['*'] }] });
  pulse = await PulseClient.create({ url: emulator.url, token: { env: tokenEnv }, timeoutMs: 5000 });
  await pulse.addConnection({ name: 'nas-1', host: 'https://nas.local', apiKey: 'k', enabled: true });
  connectionsBefore = await pulse.listConnections();
  await emulator.control.clearRequests();
  before = hashTree(dir);
  cases = corpusCases({ dir, pulseUrl: emulator.url, temporal: `127.0.0.1:${await freePort()}` }, files);
  results = await runCliCases(cases);
}, 300_000);

afterAll(async () => {
  await pulse?.close();
  await emulator?.stop();
  delete process.env[tokenEnv];
  rmSync(dir, { recursive: true, force: true });
});

describe('the bad-input corpus', () => {
  it('has at least 107 cases over every command', () => {
    expect(cases.length).toBeGreaterThanOrEqual(107);
    const commands = new Set(cases.map((k) => k.args[0]));
    for (const c of [
      'kill-switch',
      'enable',
      'disable',
      'rollback',
      'cleanup',
      'incident',
      'alerts',
      'canary',
      'codec',
      'codec-server',
      'identity',
      'audit',
      'emulator',
      'follow',
      'env',
      'doctor',
    ])
      expect(commands).toContain(c);
  });

  it('every case: exit 2, the flag and the fix named, no stack trace, no secret repeated', () => {
    const unclear = cases.map((k, i) => judge(k, results[i])).filter((v) => !v.clear);
    expect(unclear).toEqual([]);
  });

  it('the env and doctor cases wrote no environment: the environments file is as it was, and none was created', () => {
    const envCases = cases.filter((k) => k.args[0] === 'env' || k.args[0] === 'doctor' || k.args.includes('--env'));
    expect(envCases.length).toBeGreaterThanOrEqual(40);
    expect(JSON.parse(readFileSync(files.environments, 'utf8'))).toEqual(ENVIRONMENTS);
    expect(statSync(files.environments).mode & 0o777).toBe(0o600);
    expect(existsSync(path.join(dir, 'new-config'))).toBe(false);
    // No temporary file of an atomic write was left next to it either.
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('nothing changed: the sandbox hashes the same and Pulse saw no request', async () => {
    expect(hashTree(dir)).toEqual(before);
    expect(await emulator.control.requests()).toEqual([]);
    expect(await pulse.listConnections()).toEqual(connectionsBefore);
  });
});
