/**
 * The codec server over real HTTP on 127.0.0.1: the Temporal codec-server protocol, CORS limited to the configured
 * origins (preflight included), the bearer token, and the namespace list.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { keyRingFromFile } from '../../src/config/codec.js';
import { AesGcmPayloadCodec } from '../../src/temporal/codec.js';
import { localUiOrigins, startCodecServer, type CodecServer } from '../../src/temporal/codec-server.js';

const UI = 'http://127.0.0.1:8233';
const codec = new AesGcmPayloadCodec(keyRingFromFile({ current: '2026-11', keys: { '2026-11': randomBytes(32).toString('base64') } }));

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

async function encrypted(value: unknown) {
  return toJson((await codec.encode([defaultPayloadConverter.toPayload(value)]))[0]);
}

async function call(server: CodecServer, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(`${server.url}${path}`, {
    method: (opts.method ?? 'POST') as 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: opts.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

describe('codec server: protocol and CORS', () => {
  let server: CodecServer;
  beforeAll(async () => {
    server = await startCodecServer({ codec, allowedOrigins: localUiOrigins(8233), namespaces: ['default'] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('listens on a free loopback port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('an allowed origin gets CORS headers and the decoded payloads', async () => {
    const body = JSON.stringify({ payloads: [await encrypted({ pulseUrl: 'http://pulse:7655' }), await encrypted('two')] });
    const r = await call(server, '/decode', { headers: { origin: UI, 'x-namespace': 'default' }, body });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe(UI);
    expect(r.headers['vary']).toBe('Origin');
    const decoded = (r.json.payloads as Array<{ metadata: Record<string, string>; data: string }>).map(fromJson);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([{ pulseUrl: 'http://pulse:7655' }, 'two']);
    expect(Buffer.from(r.json.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
  });

  it('both spellings of the local UI origin are allowed', async () => {
    const r = await call(server, '/decode', {
      headers: { origin: 'http://localhost:8233' },
      body: JSON.stringify({ payloads: [await encrypted(1)] }),
    });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('http://localhost:8233');
  });

  it('another origin is refused with 403 and no CORS headers, and nothing is decoded', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1:8234', 'http://127.0.0.1:8233.evil.example']) {
      const r = await call(server, '/decode', {
        headers: { origin },
        body: JSON.stringify({ payloads: [await encrypted('secret-value')] }),
      });
      expect(r.status).toBe(403);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
      expect(JSON.stringify(r.json)).not.toContain('secret-value');
      expect(r.json.error).toBe(`origin ${origin} is not allowed to use this codec server`);
    }
  });

  it('answers the preflight of an allowed origin, and refuses that of another', async () => {
    const ok = await call(server, '/decode', {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(UI);
    expect(String(ok.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['content-type', 'x-namespace', 'authorization']),
    );
    const bad = await call(server, '/decode', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(bad.status).toBe(403);
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves requests without an Origin (the Temporal CLI), and /encode round-trips through /decode', async () => {
    const plain = toJson(defaultPayloadConverter.toPayload({ a: 1 }));
    const enc = await call(server, '/encode', { body: JSON.stringify({ payloads: [plain] }) });
    expect(enc.status).toBe(200);
    expect(enc.headers['access-control-allow-origin']).toBeUndefined();
    expect(Buffer.from(enc.json.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    const dec = await call(server, '/decode', { body: JSON.stringify(enc.json) });
    expect(dec.json.payloads).toEqual([plain]);
  });

  it('respects X-Namespace and the namespace path segment', async () => {
    const body = JSON.stringify({ payloads: [await encrypted('x')] });
    expect((await call(server, '/default/decode', { headers: { origin: UI }, body })).status).toBe(200);
    const other = await call(server, '/decode', { headers: { origin: UI, 'x-namespace': 'payments' }, body });
    expect(other.status).toBe(403);
    expect(other.json.error).toBe('namespace payments is not served by this codec server (it serves: default)');
    // The refusal is readable by the allowed UI.
    expect(other.headers['access-control-allow-origin']).toBe(UI);
    expect((await call(server, '/payments/decode', { body })).status).toBe(403);
  });

  it('reports a payload it cannot decrypt with the key id, and bad requests plainly', async () => {
    const p = await encrypted('x');
    const data = Buffer.from(p.data, 'base64');
    data[15] ^= 1;
    const tampered = await call(server, '/decode', { body: JSON.stringify({ payloads: [{ ...p, data: data.toString('base64') }] }) });
    expect(tampered.status).toBe(400);
    expect(tampered.json.error).toMatch(/key id "2026-11" failed authentication/);
    expect((await call(server, '/decode', { body: 'not json' })).status).toBe(400);
    expect((await call(server, '/decode', { body: JSON.stringify({ payload: [] }) })).status).toBe(400);
    const get = await call(server, '/decode', { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers['allow']).toBe('POST, OPTIONS');
    expect((await call(server, '/metrics')).status).toBe(404);
  });
});

describe('codec server: bearer token and limits', () => {
  const token = randomBytes(24).toString('hex');
  let server: CodecServer;
  beforeAll(async () => {
    server = await startCodecServer({ codec, allowedOrigins: [UI], bearerToken: token, maxBodyBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('requires the bearer token on every POST, but not on the preflight', async () => {
    const body = JSON.stringify({ payloads: [await encrypted('guarded')] });
    const none = await call(server, '/decode', { headers: { origin: UI }, body });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.headers['access-control-allow-origin']).toBe(UI);
    expect(JSON.stringify(none.json)).not.toContain('guarded');
    const wrong = await call(server, '/decode', { headers: { origin: UI, authorization: `Bearer ${token}x` }, body });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.json)).not.toContain(token);
    expect((await call(server, '/decode', { headers: { authorization: token }, body })).status).toBe(401);
    const right = await call(server, '/decode', { headers: { origin: UI, authorization: `Bearer ${token}` }, body });
    expect(right.status).toBe(200);
    expect(defaultPayloadConverter.fromPayload(fromJson(right.json.payloads[0]))).toBe('guarded');
    const preflight = await call(server, '/decode', {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
  });

  it('any namespace is served when no list is configured', async () => {
    const r = await call(server, '/decode', {
      headers: { authorization: `Bearer ${token}`, 'x-namespace': 'anything' },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ payloads: [] });
  });

  it('refuses a body over the limit with 413', async () => {
    const big = JSON.stringify({ payloads: [{ metadata: {}, data: 'A'.repeat(100 * 1024) }] });
    const r = await call(server, '/decode', { headers: { authorization: `Bearer ${token}` }, body: big });
    expect(r.status).toBe(413);
  });
});
