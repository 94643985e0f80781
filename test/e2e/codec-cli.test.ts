/**
 * Payload encryption as a person uses it: `codec keygen`, `codec-server`, and `start` with the embedded dev server
 * (generated key file, codec endpoint given to the Web UI, encrypted history, key reused after a restart). Real
 * processes, real HTTP on 127.0.0.1, temp dirs.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnLong as spawnLongProcess } from '../../bench/support/long-process.js';
import { runCli } from '../support/cli-host.js';
import { request } from 'undici';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { freePort } from '../../src/temporal/dev-server.js';
import { loadCodec } from '../../src/temporal/data-converter.js';
import { pulseWithConnections, type PulseFixture } from '../support/e2e.js';

const bin = path.resolve('bin/pulse-runbook.js');
const baseEnv = { PULSE_URL: '', PULSE_TOKEN: '', PULSE_RUNBOOKS_CODEC_KEYS_FILE: '' };

function cli(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { ...baseEnv, ...env }, timeoutMs: 120_000 });
}

/** A long-running command: its stdout so far, and a wait for a line matching a pattern. */
function spawnLong(args: string[], env: Record<string, string> = {}) {
  return spawnLongProcess(process.execPath, [bin, ...args], { ...baseEnv, ...env });
}

async function post(url: string, headers: Record<string, string>, body: unknown) {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'codec-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('pulse-runbook codec keygen', () => {
  it('creates an owner-only key file, rotates it keeping old keys, never prints a key and never overwrites', async () => {
    const file = path.join(dir, 'keys.json');
    const made = await cli(['codec', 'keygen', '--out', file, '--key-id', '2026-05']);
    expect(made.exitCode).toBe(0);
    expect(made.stdout).toContain(`Created ${file} (mode 0600): current key id "2026-05"`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const first = JSON.parse(readFileSync(file, 'utf8'));
    expect(made.stdout).not.toContain(first.keys['2026-05']);

    const rotated = await cli(['codec', 'keygen', '--rotate', file, '--key-id', '2026-11']);
    expect(rotated.exitCode).toBe(0);
    expect(rotated.stdout).toContain('current key id "2026-11"; kept for decryption: 2026-05');
    const second = JSON.parse(readFileSync(file, 'utf8'));
    expect(second.current).toBe('2026-11');
    expect(second.keys['2026-05']).toBe(first.keys['2026-05']);
    expect(rotated.stdout).not.toContain(second.keys['2026-11']);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const again = await cli(['codec', 'keygen', '--out', file]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('already exists: rotate it with `pulse-runbook codec keygen --rotate');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(second);
  });
});

describe('pulse-runbook codec-server', () => {
  it('decrypts for the allowed origin only, and needs the bearer token it is given by reference', async () => {
    const file = path.join(dir, 'keys.json');
    await cli(['codec', 'keygen', '--out', file, '--key-id', 'k1']);
    const tokenFile = path.join(dir, 'token');
    const token = randomBytes(16).toString('hex');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const origin = 'https://temporal-ui.example.com';
    const server = spawnLong([
      'codec-server',
      '--codec-keys-file',
      file,
      '--port',
      '0',
      '--allow-origin',
      origin,
      '--token-file',
      tokenFile,
    ]);
    try {
      const [, url] = await server.waitFor(/Codec server on (http:\/\/127\.0\.0\.1:\d+)/);
      expect(server.output()).toContain(`Browser origins allowed: ${origin}; namespaces: default; bearer token required`);
      expect(server.output()).not.toContain(token);
      const { codec } = loadCodec(file);
      const [enc] = await codec.encode([defaultPayloadConverter.toPayload('hello')]);
      const payload = {
        metadata: Object.fromEntries(Object.entries(enc.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
        data: Buffer.from(enc.data!).toString('base64'),
      };

      const ok = await post(
        `${url}/decode`,
        { origin, authorization: `Bearer ${token}`, 'x-namespace': 'default' },
        { payloads: [payload] },
      );
      expect(ok.status).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe(origin);
      expect(Buffer.from(ok.json.payloads[0].data, 'base64').toString()).toBe('"hello"');

      const local = await post(
        `${url}/decode`,
        { origin: 'http://127.0.0.1:8233', authorization: `Bearer ${token}` },
        { payloads: [payload] },
      );
      expect(local.status).toBe(403);
      expect(local.headers['access-control-allow-origin']).toBeUndefined();
      expect((await post(`${url}/decode`, { origin }, { payloads: [payload] })).status).toBe(401);
    } finally {
      await server.stop();
    }
  });

  it('refuses bad settings, naming the flag or the key file field', async () => {
    const noKeys = await cli(['codec-server', '--port', '0']);
    expect(noKeys.exitCode).toBe(2);
    expect(noKeys.stderr).toContain('codec-server --codec-keys-file / PULSE_RUNBOOKS_CODEC_KEYS_FILE: required');
    const file = path.join(dir, 'keys.json');
    await cli(['codec', 'keygen', '--out', file]);
    const badOrigin = await cli([
      'codec-server',
      '--codec-keys-file',
      file,
      '--port',
      '0',
      '--allow-origin',
      'https://ui.example.com/path',
    ]);
    expect(badOrigin.exitCode).toBe(2);
    expect(badOrigin.stderr).toContain(
      'codec-server --allow-origin https://ui.example.com/path: must be only scheme://host[:port], with no path',
    );
    const short = path.join(dir, 'short.json');
    const shortKey = randomBytes(24).toString('base64');
    writeFileSync(short, JSON.stringify({ current: 'a', keys: { a: shortKey } }), { mode: 0o600 });
    const badKey = await cli(['codec-server', '--codec-keys-file', short, '--port', '0']);
    expect(badKey.exitCode).toBe(2);
    expect(badKey.stderr).toContain(`codec key file ${short}: keys.a: decodes to 24 bytes; AES-256 needs exactly 32`);
    expect(badKey.stderr).not.toContain(shortKey);
  });
});

describe('pulse-runbook start with the embedded server', () => {
  let fx: PulseFixture | undefined;
  afterEach(async () => {
    await fx?.stop();
  });

  it('generates the key on the first start, gives the UI the codec endpoint, encrypts history, and reuses the key after a restart', async () => {
    fx = await pulseWithConnections(1);
    const [grpc, ui] = [await freePort(), await freePort()];
    const dataDir = path.join(dir, 'data');
    const keyFile = path.join(dataDir, 'codec-keys.json');
    const env = { TEMPORAL_ADDRESS: '', [fx.tokenEnv]: fx.token };
    const args = ['start', '--no-demo', '--temporal-port', String(grpc), '--ui-port', String(ui), '--data-dir', dataDir];

    let workflowId: string;
    let firstKeys: string;
    const first = spawnLong(args, env);
    try {
      await first.waitFor(/Worker on task queue/);
      expect(first.output()).toContain(`Payload encryption on: key file ${keyFile} (created now), current key id "`);
      expect(first.output()).toContain(`CLI commands in another terminal need it too: --codec-keys-file ${keyFile}`);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      firstKeys = readFileSync(keyFile, 'utf8');
      expect(first.output()).not.toContain(JSON.parse(firstKeys).keys[JSON.parse(firstKeys).current]);
      const [, codecUrl] = first.output().match(/Codec server (http:\/\/127\.0\.0\.1:\d+)/)!;

      // The dev server's Web UI was told where to decode.
      const settings = await request(`http://127.0.0.1:${ui}/api/v1/settings`).then(
        (r) => r.body.json() as Promise<{ Codec: { Endpoint: string } }>,
      );
      expect(settings.Codec.Endpoint).toBe(codecUrl);
      const preflight = await request(`${codecUrl}/decode`, {
        method: 'OPTIONS',
        headers: { origin: `http://localhost:${ui}`, 'access-control-request-method': 'POST' },
      });
      await preflight.body.text();
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe(`http://localhost:${ui}`);

      // A procedure from another terminal, with the key file, against this server.
      const run = await cli(
        [
          'kill-switch',
          '--plan',
          '--pulse-url',
          fx.emulator.url,
          '--token-env',
          fx.tokenEnv,
          '--tick-seconds',
          '1',
          '--codec-keys-file',
          keyFile,
        ],
        { TEMPORAL_ADDRESS: `127.0.0.1:${grpc}`, [fx.tokenEnv]: fx.token },
      );
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain('Plan complete, nothing was changed');
      workflowId = run.stdout.match(/workflow (kill-switch-plan-\S+)/)![1];

      const connection = await Connection.connect({ address: `127.0.0.1:${grpc}` });
      try {
        // Read raw, without the codec: the input and the result are ciphertext, the URL is nowhere in them.
        const events = (await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        const input = events[0].workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        const result = events.find((e) => e.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes?.result
          ?.payloads?.[0];
        for (const p of [input, result]) {
          expect(Buffer.from(p!.metadata!.encoding!).toString()).toBe('binary/encrypted');
          expect(Buffer.from(p!.data!).toString('latin1')).not.toContain(fx.emulator.url);
        }
      } finally {
        await connection.close();
      }
    } finally {
      await first.stop();
    }

    // Second start: same data dir, same key; the first run's history (in SQLite) still decrypts.
    const second = spawnLong(args, env);
    try {
      await second.waitFor(/Worker on task queue/);
      expect(second.output()).toContain(`Payload encryption on: key file ${keyFile} (reused)`);
      expect(readFileSync(keyFile, 'utf8')).toBe(firstKeys);
      const connection = await Connection.connect({ address: `127.0.0.1:${grpc}` });
      try {
        const withCodec = new Client({ connection, dataConverter: loadCodec(keyFile).dataConverter });
        const result = (await withCodec.workflow.getHandle(workflowId).result()) as { pulseUrl: string; plan: boolean };
        expect(result).toMatchObject({ pulseUrl: fx.emulator.url, plan: true });
      } finally {
        await connection.close();
      }
    } finally {
      await second.stop();
    }
  });
});
