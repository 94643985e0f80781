/**
 * The codec server as docker-compose.yml runs it: its command line and environment taken from the compose file and
 * run for real (`pulse-runbook` as the image's entrypoint), with only what a machine without Docker must change:
 * loopback instead of 0.0.0.0, a free port instead of 8888, and a temp key file where the codec_keys secret is
 * mounted. The Web UI's browser (an Origin the UI is published at) gets payloads decrypted with the worker's key;
 * any other origin is refused. The static checks of the same service are in compose-file.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { defaultPayloadConverter } from '@temporalio/common';
import { parse } from 'yaml';
import { CODEC_KEYS_FILE_ENV } from '../../src/config/codec.js';
import { createKeyFile } from '../../src/temporal/codec-key-file.js';
import { loadCodec } from '../../src/temporal/data-converter.js';

interface Service {
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  secrets?: string[];
}
const root = path.resolve('.');
const bin = path.join(root, 'bin', 'pulse-runbook.js');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const [codecName, codecService] = Object.entries(compose.services).find(([, s]) => s.command?.[0] === 'codec-server')!;
const uiService = Object.values(compose.services).find((s) => 'TEMPORAL_CODEC_ENDPOINT' in (s.environment ?? {}))!;

/** The compose argv with one flag's value replaced (what this machine cannot use). */
function withFlag(argv: string[], flag: string, value: string): string[] {
  const at = argv.indexOf(flag);
  expect({ flag, given: at >= 0 }).toEqual({ flag, given: true });
  return [...argv.slice(0, at + 1), value, ...argv.slice(at + 2)];
}

/** The origins the UI is published at, as a browser on the host sends them. */
function uiOrigins(): string[] {
  const hostPort = uiService.ports!.map((p) => p.split(':')).find((p) => p[2] === '8080')!;
  return [`http://${hostPort[0]}:${hostPort[1]}`, `http://localhost:${hostPort[1]}`];
}

describe(`the ${codecName} service of docker-compose.yml, run for real`, () => {
  let dir: string;
  let child: ResultPromise;
  let url: string;
  let keysFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'compose-codec-'));
    keysFile = path.join(dir, 'codec_keys');
    createKeyFile(keysFile, { keyId: 'compose-test' });
    const env = Object.fromEntries(Object.entries(codecService.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
    // The secret's mount point in the container, and the key file there.
    expect(env[CODEC_KEYS_FILE_ENV]).toBe('/run/secrets/codec_keys');
    env[CODEC_KEYS_FILE_ENV] = keysFile;
    const argv = withFlag(withFlag(codecService.command!, '--host', '127.0.0.1'), '--port', '0');
    child = execa(process.execPath, [bin, ...argv], { reject: false, env, stdin: 'ignore' });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/Codec server on (http:\S+)/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the codec server did not start:\n${out}\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    url = /Codec server on (http:\S+)/.exec(out)![1];
    expect(err).toBe('');
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await child;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function decode(origin: string, namespace = 'default') {
    const { codec } = loadCodec(keysFile);
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload({ pulseUrl: 'http://pulse.internal:7655' })]);
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(encrypted.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
          data: Buffer.from(encrypted.data!).toString('base64'),
        },
      ],
    };
    const res = await request(`${url}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, 'x-namespace': namespace },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, cors: res.headers['access-control-allow-origin'], json: text ? JSON.parse(text) : undefined };
  }

  it.each(uiOrigins())("decrypts for the Web UI opened at %s, with the worker's key", async (origin) => {
    const r = await decode(origin);
    expect(r.status).toBe(200);
    expect(r.cors).toBe(origin);
    const [payload] = r.json.payloads;
    const data = Buffer.from(payload.data, 'base64').toString();
    expect(JSON.parse(data)).toEqual({ pulseUrl: 'http://pulse.internal:7655' });
  });

  it('refuses another origin and another namespace', async () => {
    const other = await decode('http://evil.example');
    expect(other.status).toBe(403);
    expect(other.cors).toBeUndefined();
    const ns = await decode(uiOrigins()[0], 'someone-else');
    expect(ns.status).toBe(403);
  });

  it("answers the compose healthcheck's empty decode with 200", async () => {
    const test = (compose.services[codecName] as { healthcheck?: { test?: string[] } }).healthcheck!.test!;
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const port = new URL(url).port;
    // The healthcheck's own script, pointed at this run's port.
    const script = test[3].replace('http://127.0.0.1:8888/', `${url}/`);
    expect(script).not.toBe(test[3]);
    const r = await execa(process.execPath, ['-e', script], { reject: false });
    expect({ port, exitCode: r.exitCode }).toEqual({ port, exitCode: 0 });
  });
});
