/**
 * The Pulse client against real HTTP on 127.0.0.1: a small fake of Pulse written here (not the emulator)
 * that answers as shared/pulse-api.md says for the Feb line and the v6 releases, plus raw stubs for the
 * odd answers (HTML, hangs, echoed secrets).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PulseClient } from '../../src/pulse/client.js';
import {
  PulseAuthError,
  PulseDisabledError,
  PulseError,
  PulseForbiddenError,
  PulseMethodNotAllowed,
  PulseNotFoundError,
  PulseProtocolError,
  PulseRequestError,
  PulseUnavailableError,
  PulseValidationError,
} from '../../src/pulse/errors.js';
import { PulseTargetSchema, type PulseTargetInput } from '../../src/config/pulse-target.js';
import { MASK } from '../../src/runbook/redact.js';

const TOKEN = 'tok-7f3e9a1c5b2d4e6f8a0b1c2d3e4f5a6b';
const API_KEY = 'nas-key-1-2-3-4-5-6-7-8-9-0-abcdef';

// --- a tiny HTTP harness -----------------------------------------------------------------------------------------

interface Recorded {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body?: unknown;
}

interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

type Handler = (req: Recorded) => Reply;

interface Stub {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

const openStubs: Stub[] = [];

async function startStub(handler: Handler): Promise<Stub> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url ?? '/', 'http://stub');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const rec: Recorded = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
      };
      requests.push(rec);
      const reply = handler(rec);
      if (reply.hang) return;
      const headers: Record<string, string> = { ...(reply.headers ?? {}) };
      let payload = reply.text ?? '';
      if (reply.json !== undefined) {
        headers['content-type'] ??= 'application/json';
        payload = JSON.stringify(reply.json);
      } else {
        headers['content-type'] ??= 'text/plain; charset=utf-8';
      }
      res.writeHead(reply.status, headers);
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stub: Stub = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  openStubs.push(stub);
  return stub;
}

const clients: PulseClient[] = [];

async function clientFor(url: string, extra: Partial<PulseTargetInput> = {}, env: NodeJS.ProcessEnv = {}): Promise<PulseClient> {
  const client = await PulseClient.create(PulseTargetSchema.parse({ url, ...extra }), { env });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(openStubs.splice(0).map((s) => s.close()));
});

/** Resolves with the thrown error, failing the test when nothing is thrown. */
async function caught(p: Promise<unknown>): Promise<PulseError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PulseError);
    return e as PulseError;
  }
  throw new Error('expected a PulseError');
}

// --- a fake Pulse, per pulse-api.md ------------------------------------------------------------------------------

function pulseError(status: number, code: string, error: string, details?: Record<string, unknown>): Reply {
  return { status, json: { error, code, status_code: status, timestamp: 1760000000, ...(details ? { details } : {}) } };
}

const METHOD_NOT_ALLOWED: Reply = { status: 405, text: 'Method not allowed\n' };

interface FakePulseOptions {
  /** 'feb': /api/v2/resources, legacy /api/resources, no per-id test. 'v6-rel': no v2, unified
   *  /api/resources, no per-id test. 'v6': as v6-rel plus the per-id test (2026-03-30+). */
  line: 'feb' | 'v6-rel' | 'v6';
  flag?: boolean;
  token?: string;
  /** Scopes of the token; default '*'. */
  scopes?: string[];
  mockMode?: boolean;
  resources?: number;
}

interface FakePulse extends Stub {
  connections: Map<string, Record<string, unknown>>;
}

function makeResources(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    id: `truenas-res-${i}`,
    type: i === 0 ? 'host' : 'storage',
    name: `tank-${i}`,
    status: 'online',
    lastSeen: '2026-02-09T10:00:00Z',
    sources: ['truenas'],
    sourceStatus: { truenas: { status: 'online', lastSeen: '2026-02-09T10:00:00Z', error: '' } },
    tags: ['truenas', 'pool'],
  }));
}

function paginate(all: Array<Record<string, unknown>>, query: URLSearchParams): Reply {
  const limit = Math.min(Number(query.get('limit') ?? 50), 100);
  const page = Math.max(Number(query.get('page') ?? 1), 1);
  const source = query.get('source');
  const filtered = source ? all.filter((r) => (r.sources as string[]).includes(source)) : all;
  const totalPages = Math.ceil(filtered.length / limit);
  return {
    status: 200,
    json: {
      data: filtered.slice((page - 1) * limit, page * limit),
      meta: { page, limit, total: filtered.length, totalPages },
      aggregations: { total: filtered.length, byType: {}, byStatus: {}, bySource: {} },
    },
  };
}

function redacted(c: Record<string, unknown>): Record<string, unknown> {
  const out = { ...c };
  if (out.apiKey) out.apiKey = MASK;
  if (out.password) out.password = MASK;
  return out;
}

async function startFakePulse(o: FakePulseOptions): Promise<FakePulse> {
  const flag = o.flag ?? true;
  const scopes = o.scopes ?? ['*'];
  const connections = new Map<string, Record<string, unknown>>();
  const resources = makeResources(o.resources ?? 3);
  const disabledMsg = o.line === 'feb' ? 'TrueNAS integration is not enabled' : 'TrueNAS integration has been explicitly disabled';
  let nextId = 1;

  const authFails = (r: Recorded): Reply | undefined => {
    if (!o.token) return undefined;
    const header = r.headers['x-api-token'] ?? (r.headers.authorization ?? '').replace(/^bearer\s+/i, '');
    if (!header) return { status: 401, json: { error: 'Authentication required' } };
    if (header !== o.token) return { status: 401, json: { error: 'Invalid API token' } };
    return undefined;
  };
  const scopeFails = (needed: string): Reply | undefined =>
    scopes.includes('*') || scopes.includes(needed) ? undefined : { status: 403, json: { error: 'missing_scope', requiredScope: needed } };
  const validate = (b: Record<string, unknown>): Reply | undefined => {
    if (!b || typeof b !== 'object') return pulseError(400, 'invalid_request', 'Invalid request body', { error: 'bad json' });
    if (!String(b.host ?? '').trim()) return pulseError(400, 'validation_error', 'truenas host is required');
    if (!b.apiKey && !(b.username && b.password)) {
      return pulseError(400, 'validation_error', 'truenas credentials are required: provide api key or username/password');
    }
    return undefined;
  };

  const stub = await startStub((r) => {
    if (r.path === '/api/health') return { status: 200, json: { status: 'healthy' } };
    if (r.path === '/api/security/status') {
      return { status: 200, json: { hasAuthentication: Boolean(o.token), apiTokenConfigured: Boolean(o.token) } };
    }
    const denied = authFails(r);
    if (denied) return denied;

    if (r.path === '/api/v2/resources') {
      if (o.line !== 'feb') return { status: 404, text: '404 page not found\n' };
      return scopeFails('monitoring:read') ?? paginate(resources, r.query);
    }
    if (r.path === '/api/resources') {
      if (o.line === 'feb')
        return { status: 200, json: { resources: [{ id: 'pve-1', platformType: 'proxmox-pve' }], count: 1, stats: {} } };
      return scopeFails('monitoring:read') ?? paginate(resources, r.query);
    }

    const prefix = '/api/truenas/connections';
    if (!r.path.startsWith(prefix)) return { status: 404, text: '404 page not found\n' };
    const rest = r.path.slice(prefix.length);

    if (rest === '' || rest === '/') {
      if (r.method === 'GET')
        return (
          scopeFails('settings:read') ??
          (flag ? { status: 200, json: [...connections.values()].map(redacted) } : pulseError(404, 'truenas_disabled', disabledMsg))
        );
      if (r.method === 'POST') {
        const denied2 = scopeFails('settings:write');
        if (denied2) return denied2;
        if (!flag) return pulseError(404, 'truenas_disabled', disabledMsg);
        if (o.mockMode) return pulseError(403, 'mock_mode_enabled', 'Mock mode is enabled');
        const b = r.body as Record<string, unknown>;
        const invalid = validate(b);
        if (invalid) return invalid;
        const id = String(b.id ?? `conn-${nextId++}`);
        // Feb: enabled/useHttps default to false when omitted; from 2026-04-09 enabled defaults to true
        const stored = {
          id,
          name: b.name ?? '',
          host: b.host,
          apiKey: b.apiKey,
          useHttps: b.useHttps ?? false,
          enabled: b.enabled ?? o.line === 'v6',
        };
        connections.set(id, stored);
        return { status: 201, json: redacted(stored) };
      }
      return METHOD_NOT_ALLOWED;
    }
    if (rest === '/test') {
      if (r.method !== 'POST') return METHOD_NOT_ALLOWED;
      const denied2 = scopeFails('settings:write');
      if (denied2) return denied2;
      if (!flag) return pulseError(404, 'truenas_disabled', disabledMsg);
      const b = r.body as Record<string, unknown>;
      const invalid = validate(b);
      if (invalid) return invalid;
      if (String(b.host).includes('unreachable')) {
        return pulseError(400, 'truenas_connection_failed', 'Failed to connect to TrueNAS', {
          error: `GET /api/v2.0/system/info: status=401 key=${String(b.apiKey)}`,
        });
      }
      return { status: 200, json: { success: true } };
    }
    const idTest = /^\/([^/]+)\/test$/.exec(rest);
    if (idTest) {
      if (o.line !== 'v6' || r.method !== 'POST') return METHOD_NOT_ALLOWED;
      const denied2 = scopeFails('settings:write');
      if (denied2) return denied2;
      if (!flag) return pulseError(404, 'truenas_disabled', disabledMsg);
      const id = decodeURIComponent(idTest[1]);
      if (!connections.has(id)) return pulseError(404, 'truenas_not_found', 'TrueNAS connection not found');
      return { status: 200, json: { success: true } };
    }
    if (r.method !== 'DELETE') return METHOD_NOT_ALLOWED;
    const denied2 = scopeFails('settings:write');
    if (denied2) return denied2;
    if (!flag) return pulseError(404, 'truenas_disabled', disabledMsg);
    if (o.mockMode) return pulseError(403, 'mock_mode_enabled', 'Mock mode is enabled');
    const id = decodeURIComponent(rest.slice(1));
    if (!id || id.includes('/')) return pulseError(400, 'missing_connection_id', 'Connection ID is required');
    if (!connections.delete(id)) return pulseError(404, 'truenas_not_found', 'TrueNAS connection not found');
    return { status: 200, json: { success: true, id } };
  });
  return Object.assign(stub, { connections });
}

// --- tests -------------------------------------------------------------------------------------------------------

describe('PulseClient: connections against a Feb-like Pulse', () => {
  it('sends the bearer token, checks health and lists connections as an array', async () => {
    const pulse = await startFakePulse({ line: 'feb', token: TOKEN });
    const client = await clientFor(pulse.url, { token: { env: 'PULSE_TOKEN' } }, { PULSE_TOKEN: TOKEN });
    await expect(client.health()).resolves.toEqual({ ok: true, status: 200 });
    await expect(client.listConnections()).resolves.toEqual([]);
    const list = pulse.requests.find((r) => r.path === '/api/truenas/connections');
    expect(list?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(list?.headers.accept).toBe('application/json');
  });

  it("adds a connection with the runbook's api_key sent as apiKey and enabled:true (§8.1)", async () => {
    const pulse = await startFakePulse({ line: 'feb' });
    const client = await clientFor(pulse.url);
    const added = await client.addConnection({ name: 'nas-1', host: 'truenas.local', api_key: API_KEY });
    const sent = pulse.requests.find((r) => r.method === 'POST')?.body as Record<string, unknown>;
    expect(sent).toEqual({ name: 'nas-1', host: 'truenas.local', apiKey: API_KEY, enabled: true });
    expect(added.status).toBe(201);
    expect(added.connection).toMatchObject({ id: 'conn-1', apiKey: MASK, enabled: true });
    expect(added.notes.join(' ')).toContain('api_key was sent as apiKey');
    // the Feb poller only sees enabled connections: the stored one is enabled although Feb defaults to false
    expect(pulse.connections.get('conn-1')?.enabled).toBe(true);
  });

  it('masks a secret even if a build echoed it in clear in the list', async () => {
    const stub = await startStub(() => ({
      status: 200,
      json: [{ id: 'c1', host: 'nas', apiKey: API_KEY, enabled: true, useHttps: false }],
    }));
    const client = await clientFor(stub.url);
    const [c] = await client.listConnections();
    expect(c.apiKey).toBe(MASK);
  });

  it('refuses a bad body before any request', async () => {
    const pulse = await startFakePulse({ line: 'feb' });
    const client = await clientFor(pulse.url);
    const err = await caught(client.addConnection({ name: 'nas-1', host: 'truenas.local' }));
    expect(err).toBeInstanceOf(PulseValidationError);
    expect(err.message).toContain('apiKey: credentials are required');
    expect(pulse.requests).toHaveLength(0);
  });

  it('deletes twice: deleted, then already-gone (404 truenas_not_found)', async () => {
    const pulse = await startFakePulse({ line: 'feb' });
    const client = await clientFor(pulse.url);
    const { connection } = await client.addConnection({ host: 'nas', apiKey: API_KEY });
    await expect(client.deleteConnection(connection.id)).resolves.toEqual({ id: connection.id, outcome: 'deleted', status: 200 });
    await expect(client.deleteConnection(connection.id)).resolves.toEqual({ id: connection.id, outcome: 'already-gone', status: 404 });
    expect(pulse.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      `/api/truenas/connections/${connection.id}`,
      `/api/truenas/connections/${connection.id}`,
    ]);
  });

  it('refuses empty ids and ids with "/" before any request', async () => {
    const pulse = await startFakePulse({ line: 'feb' });
    const client = await clientFor(pulse.url);
    for (const id of ['', '  ', 'a/b', '..']) {
      const err = await caught(client.deleteConnection(id));
      expect(err).toBeInstanceOf(PulseValidationError);
      expect(err.code).toBe('missing_connection_id');
      expect(err.status).toBeUndefined();
    }
    expect(pulse.requests).toHaveLength(0);
  });

  it('tells 404 truenas_disabled from 404 truenas_not_found', async () => {
    const pulse = await startFakePulse({ line: 'feb', flag: false });
    const client = await clientFor(pulse.url);
    const list = await caught(client.listConnections());
    expect(list).toBeInstanceOf(PulseDisabledError);
    expect(list).toMatchObject({
      type: 'PulseDisabledError',
      status: 404,
      code: 'truenas_disabled',
      retryable: false,
      method: 'GET',
      path: '/api/truenas/connections',
    });
    expect(list.message).toMatch(
      /^GET \/api\/truenas\/connections → 404 truenas_disabled: TrueNAS integration is not enabled\. The TrueNAS feature flag is off/,
    );
    // delete with the flag off is not "already gone": nothing was deleted
    const del = await caught(client.deleteConnection('4f0c'));
    expect(del).toBeInstanceOf(PulseDisabledError);
  });

  it('maps a plain 404 (route absent, e.g. after a code rollback) to PulseNotFoundError', async () => {
    const stub = await startStub(() => ({ status: 404, text: '404 page not found\n' }));
    const client = await clientFor(stub.url);
    const err = await caught(client.deleteConnection('abc'));
    expect(err).toBeInstanceOf(PulseNotFoundError);
    expect(err.message).toBe('DELETE /api/truenas/connections/abc → 404: 404 page not found');
  });

  it('tests a connection by body; a failing NAS is a PulseValidationError with details, the key scrubbed', async () => {
    const pulse = await startFakePulse({ line: 'feb' });
    const client = await clientFor(pulse.url);
    await expect(client.testConnection({ host: 'nas', api_key: API_KEY })).resolves.toMatchObject({ success: true, status: 200 });
    const err = await caught(client.testConnection({ host: 'unreachable.nas', apiKey: API_KEY }));
    expect(err).toBeInstanceOf(PulseValidationError);
    expect(err.code).toBe('truenas_connection_failed');
    expect(err.message).toContain(
      'POST /api/truenas/connections/test → 400 truenas_connection_failed: Failed to connect to TrueNAS (GET /api/v2.0/system/info: status=401 key=********)',
    );
    expect(err.details?.error).toContain('status=401');
    expect(JSON.stringify(err.toJSON())).not.toContain(API_KEY);
    expect(err.message).not.toContain(API_KEY);
  });

  it('per-id test is 405 on Feb (PulseMethodNotAllowed) and works on v6', async () => {
    const feb = await startFakePulse({ line: 'feb' });
    const febClient = await clientFor(feb.url);
    const err = await caught(febClient.testConnectionById('some-id'));
    expect(err).toBeInstanceOf(PulseMethodNotAllowed);
    expect(err).toMatchObject({ status: 405, retryable: false, type: 'PulseMethodNotAllowed' });
    expect(err.message).toContain('POST /api/truenas/connections/some-id/test → 405: Method not allowed');

    const v6 = await startFakePulse({ line: 'v6' });
    const v6Client = await clientFor(v6.url);
    const { connection } = await v6Client.addConnection({ host: 'nas', apiKey: API_KEY });
    await expect(v6Client.testConnectionById(connection.id, { api_key: MASK })).resolves.toMatchObject({ success: true });
    const sent = v6.requests.at(-1);
    expect(sent?.body).toEqual({ apiKey: MASK });
    await expect(v6Client.testConnectionById(connection.id)).resolves.toMatchObject({ success: true });
    expect(v6.requests.at(-1)?.body).toBeUndefined();
    const missing = await caught(v6Client.testConnectionById('nope'));
    expect(missing).toBeInstanceOf(PulseNotFoundError);
    expect(missing.code).toBe('truenas_not_found');
  });
});

describe('PulseClient: auth and permission errors from real answers', () => {
  it('401 without a token says how to set one', async () => {
    const pulse = await startFakePulse({ line: 'feb', token: TOKEN });
    const client = await clientFor(pulse.url);
    const err = await caught(client.listConnections());
    expect(err).toBeInstanceOf(PulseAuthError);
    expect(err).toMatchObject({ type: 'PulseAuthError', status: 401, retryable: false, method: 'GET', path: '/api/truenas/connections' });
    expect(err.message).toContain('GET /api/truenas/connections → 401: Authentication required');
    expect(err.message).toContain('No Pulse API token was sent');
    expect(err.message).toContain('token: { env: "PULSE_TOKEN" }');
  });

  it('401 with a wrong token names the source, never the value', async () => {
    const pulse = await startFakePulse({ line: 'feb', token: TOKEN });
    const dir = await mkdtemp(join(tmpdir(), 'pulse-client-'));
    try {
      const file = join(dir, 'token');
      const wrong = 'wrong-token-0123456789abcdef';
      await writeFile(file, `${wrong}\n`);
      const client = await clientFor(pulse.url, { token: { file } });
      const err = await caught(client.listConnections());
      expect(err).toBeInstanceOf(PulseAuthError);
      expect(err.message).toContain(`the file ${file} was rejected`);
      expect(err.message).not.toContain(wrong);
      expect(pulse.requests[0].headers.authorization).toBe(`Bearer ${wrong}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('403 missing_scope carries the required scope', async () => {
    const pulse = await startFakePulse({ line: 'feb', token: TOKEN, scopes: ['settings:read'] });
    const client = await clientFor(pulse.url, { token: { env: 'T' } }, { T: TOKEN });
    await expect(client.listConnections()).resolves.toEqual([]);
    const err = await caught(client.addConnection({ host: 'nas', apiKey: API_KEY }));
    expect(err).toBeInstanceOf(PulseForbiddenError);
    expect(err).toMatchObject({ status: 403, reason: 'missing_scope', requiredScope: 'settings:write', retryable: false });
    expect(err.message).toContain('lacks the scope settings:write');
    expect(err.message).not.toContain(API_KEY);
  });

  it('403 mock_mode_enabled and 403 admin required', async () => {
    const pulse = await startFakePulse({ line: 'v6', mockMode: true });
    const client = await clientFor(pulse.url);
    const mock = await caught(client.addConnection({ host: 'nas', apiKey: API_KEY }));
    expect(mock).toMatchObject({ type: 'PulseForbiddenError', reason: 'mock_mode_enabled', code: 'mock_mode_enabled' });
    expect(mock.message).toContain('mock mode');

    const stub = await startStub(() => ({ status: 403, text: 'Admin privileges required\n' }));
    const adminClient = await clientFor(stub.url);
    const admin = await caught(adminClient.listConnections());
    expect(admin).toMatchObject({ type: 'PulseForbiddenError', reason: 'admin_required' });
  });
});

describe('PulseClient: other failures', () => {
  it('400 invalid_request from Pulse is a PulseValidationError with details', async () => {
    const stub = await startStub(() =>
      pulseError(400, 'invalid_request', 'Invalid request body', { error: 'http: request body too large' }),
    );
    const client = await clientFor(stub.url);
    const err = await caught(client.addConnection({ host: 'nas', apiKey: API_KEY }));
    expect(err).toBeInstanceOf(PulseValidationError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_request', details: { error: 'http: request body too large' } });
  });

  it('5xx is a retryable PulseUnavailableError; 402 a non-retryable PulseRequestError', async () => {
    let status = 500;
    const stub = await startStub(() =>
      status === 500
        ? pulseError(500, 'truenas_load_failed', 'Failed to load TrueNAS configuration')
        : pulseError(402, 'max_nodes_exceeded', 'Node limit reached'),
    );
    const client = await clientFor(stub.url);
    const e500 = await caught(client.listConnections());
    expect(e500).toBeInstanceOf(PulseUnavailableError);
    expect(e500).toMatchObject({ retryable: true, status: 500, code: 'truenas_load_failed' });
    status = 402;
    const e402 = await caught(client.addConnection({ host: 'nas', apiKey: API_KEY }));
    expect(e402).toBeInstanceOf(PulseRequestError);
    expect(e402.retryable).toBe(false);
  });

  it('an object where the list array is due is a PulseProtocolError (§8.2), as is HTML', async () => {
    let reply: Reply = { status: 200, json: { error: 'nope', code: 'weird' } };
    const stub = await startStub(() => reply);
    const client = await clientFor(stub.url);
    const obj = await caught(client.listConnections());
    expect(obj).toBeInstanceOf(PulseProtocolError);
    expect(obj.retryable).toBe(false);
    expect(obj.message).toContain('expected a JSON array of connections, got an object with keys error, code');
    reply = { status: 200, text: '<!doctype html><html></html>', headers: { 'content-type': 'text/html' } };
    expect(await caught(client.listConnections())).toBeInstanceOf(PulseProtocolError);
  });

  it('connection refused is a retryable PulseUnavailableError', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = await clientFor(`http://127.0.0.1:${port}`);
    const err = await caught(client.health());
    expect(err).toBeInstanceOf(PulseUnavailableError);
    expect(err).toMatchObject({ retryable: true, underlying: 'ECONNREFUSED', method: 'GET', path: '/api/health' });
    expect(err.status).toBeUndefined();
    expect(err.message).toContain('connection refused');
  });

  it('times out after target.timeoutMs', async () => {
    const stub = await startStub(() => ({ status: 200, hang: true }));
    const client = await clientFor(stub.url, { timeoutMs: 150 });
    const started = Date.now();
    const err = await caught(client.listConnections());
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(PulseUnavailableError);
    expect(err).toMatchObject({ retryable: true, underlying: 'timeout' });
    expect(err.message).toBe('GET /api/truenas/connections → no answer within 150 ms (timeout)');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2000);
  });

  it('never puts the token (or request secrets) in an error, even when Pulse echoes them', async () => {
    const stub = await startStub((r) => {
      const echoed = `${String(r.headers.authorization)} ${JSON.stringify(r.body ?? {})}`;
      if (r.path.endsWith('/test'))
        return pulseError(400, 'truenas_connection_failed', `failed for ${echoed}`, { error: echoed, apiKey: API_KEY });
      if (r.method === 'DELETE') return { status: 403, text: `forbidden: ${echoed}` };
      if (r.method === 'POST') return { status: 401, json: { error: `Invalid API token ${echoed}` } };
      return pulseError(500, 'truenas_load_failed', `boom ${echoed}`, { error: echoed });
    });
    const client = await clientFor(stub.url, { token: { env: 'PULSE_TOKEN' } }, { PULSE_TOKEN: TOKEN });
    const errors = [
      await caught(client.listConnections()),
      await caught(client.addConnection({ host: 'nas', api_key: API_KEY })),
      await caught(client.testConnection({ host: 'nas', username: 'root', password: 'hunter2-password' })),
      await caught(client.testConnection({ host: 'nas', apiKey: API_KEY })),
      await caught(client.deleteConnection('c1')),
    ];
    expect(errors.map((e) => e.type)).toEqual([
      'PulseUnavailableError',
      'PulseAuthError',
      'PulseValidationError',
      'PulseValidationError',
      'PulseForbiddenError',
    ]);
    for (const e of errors) {
      const everything = `${e.message} ${JSON.stringify(e.toJSON())} ${String(e.stack)}`;
      expect(everything).not.toContain(TOKEN);
      expect(everything).not.toContain(API_KEY);
      expect(everything).not.toContain('hunter2-password');
      expect(everything).toContain(MASK);
    }
    // the server really did receive the secrets, so the scrubbing was needed
    expect(stub.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });
});

describe('PulseClient: TrueNAS resources', () => {
  it('follows meta.totalPages across 3 pages of /api/v2/resources (Feb)', async () => {
    const pulse = await startFakePulse({ line: 'feb', resources: 250 });
    const client = await clientFor(pulse.url);
    const listing = await client.listTrueNASResources();
    expect(listing).toMatchObject({ endpoint: '/api/v2/resources', shape: 'unified', pages: 3 });
    expect(listing.resources).toHaveLength(250);
    expect(new Set(listing.resources.map((r) => r.id)).size).toBe(250);
    const asked = pulse.requests.map((r) => `${r.path} ${r.query.get('source')} ${r.query.get('limit')} ${r.query.get('page')}`);
    expect(asked).toEqual([
      '/api/state null null null',
      '/api/v2/resources truenas 100 1',
      '/api/v2/resources truenas 100 2',
      '/api/v2/resources truenas 100 3',
    ]);
    expect(listing.line).toEqual({ line: 'feb', seenFrom: expect.stringContaining('/api/v2/resources') });
  });

  it('falls back to /api/resources when /api/v2/resources is 404 (v6)', async () => {
    const pulse = await startFakePulse({ line: 'v6', resources: 120 });
    const client = await clientFor(pulse.url);
    const listing = await client.listTrueNASResources();
    expect(listing).toMatchObject({ endpoint: '/api/resources', shape: 'unified', pages: 2 });
    expect(listing.resources).toHaveLength(120);
    expect(listing.notes.join(' ')).toContain('/api/v2/resources is absent (404)');
    expect(pulse.requests.map((r) => r.path)).toEqual(['/api/state', '/api/v2/resources', '/api/resources', '/api/resources']);
    expect(listing.line.line).toBe('v6');
  });

  it('skips the v2 attempt when told the resources path', async () => {
    const pulse = await startFakePulse({ line: 'v6' });
    const client = await clientFor(pulse.url);
    await client.listTrueNASResources({ resourcesPath: '/api/resources', refresh: false });
    expect(pulse.requests.map((r) => r.path)).toEqual(['/api/resources']);
  });

  it('refreshes the frontend state first (GET /api/state, as the web UI does) and says how it went', async () => {
    let stateStatus = 200;
    const stub = await startStub((r) =>
      r.path === '/api/state'
        ? { status: stateStatus, json: { nodes: [] } }
        : r.path === '/api/v2/resources'
          ? { status: 404, text: '404 page not found\n' }
          : paginate(makeResources(1), r.query),
    );
    const client = await clientFor(stub.url);
    const listing = await client.listTrueNASResources();
    expect(stub.requests.map((r) => `${r.method} ${r.path}`).slice(0, 2)).toEqual(['GET /api/state', 'GET /api/v2/resources']);
    expect(listing.refresh).toMatchObject({ refreshed: true, status: 200 });
    expect(listing.notes[0]).toContain('GET /api/state');
    stateStatus = 500;
    const unrefreshed = await client.listTrueNASResources();
    expect(unrefreshed.refresh).toMatchObject({ refreshed: false, status: 500 });
    expect(unrefreshed.notes[0]).toContain('may lag behind the poller');
    stateStatus = 403;
    expect(await caught(client.listTrueNASResources())).toBeInstanceOf(PulseForbiddenError);
  });

  it('returns [] with shape legacy when /api/resources has the Feb legacy shape', async () => {
    const stub = await startStub((r) =>
      r.path === '/api/v2/resources'
        ? { status: 404, text: '404 page not found\n' }
        : { status: 200, json: { resources: [{ id: 'pve-1' }], count: 1, stats: {} } },
    );
    const client = await clientFor(stub.url);
    const listing = await client.listTrueNASResources();
    expect(listing).toEqual({
      endpoint: '/api/resources',
      line: { line: 'feb', seenFrom: expect.stringContaining('legacy {resources} shape') },
      shape: 'legacy',
      resources: [],
      pages: 1,
      refresh: { refreshed: true, status: 200, note: expect.stringContaining('GET /api/state') },
      notes: [
        expect.stringContaining('GET /api/state'),
        expect.stringContaining('404'),
        expect.stringContaining('legacy {resources} shape'),
      ],
    });
  });

  it('treats the web UI answered for an unknown v2 path as absent, and notes the Deprecation header', async () => {
    const html = await startStub((r) =>
      r.path === '/api/v2/resources'
        ? { status: 200, text: '<!doctype html><title>Pulse</title>', headers: { 'content-type': 'text/html' } }
        : paginate(makeResources(2), r.query),
    );
    const client = await clientFor(html.url);
    await expect(client.listTrueNASResources()).resolves.toMatchObject({ endpoint: '/api/resources', pages: 1 });

    const alias = await startStub((r) => ({ ...paginate(makeResources(1), r.query), headers: { Deprecation: 'true' } }));
    const aliasClient = await clientFor(alias.url);
    const listing = await aliasClient.listTrueNASResources();
    expect(listing.endpoint).toBe('/api/v2/resources');
    expect(listing.notes.join(' ')).toContain('Deprecation: true');
  });

  it('keeps only resources with a truenas source, and reports a bad envelope as a protocol error', async () => {
    let body: unknown = {
      data: [...makeResources(1), { id: 'agent-1', type: 'agent', name: 'a', status: 'online', sources: ['agent'] }],
      meta: { page: 1, limit: 100, total: 2, totalPages: 1 },
    };
    const stub = await startStub(() => ({ status: 200, json: body }));
    const client = await clientFor(stub.url);
    const listing = await client.listTrueNASResources();
    expect(listing.resources.map((r) => r.id)).toEqual(['truenas-res-0']);
    expect(listing.notes.join(' ')).toContain('1 resource(s) without a truenas source');
    body = { data: 'nope' };
    expect(await caught(client.listTrueNASResources())).toBeInstanceOf(PulseProtocolError);
  });
});

describe('PulseClient: capability detection', () => {
  it('recognises a Feb-like Pulse', async () => {
    const pulse = await startFakePulse({ line: 'feb', token: TOKEN });
    const client = await clientFor(pulse.url, { token: { env: 'T' } }, { T: TOKEN });
    const caps = await client.detectCapabilities();
    expect(caps).toMatchObject({
      resourcesPath: '/api/v2/resources',
      perIdTest: false,
      truenasEnabled: true,
      line: 'feb',
      authRequired: true,
    });
    // the per-id probe used a fresh random id and changed nothing
    const probe = pulse.requests.find((r) => r.path.endsWith('/test'));
    expect(probe?.path).toMatch(/^\/api\/truenas\/connections\/[0-9a-f-]{36}\/test$/);
    expect(pulse.connections.size).toBe(0);
    expect(pulse.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
  });

  it('recognises a v6-like Pulse (per-id test present, resources moved) with the flag off', async () => {
    const pulse = await startFakePulse({ line: 'v6', flag: false });
    const client = await clientFor(pulse.url);
    const caps = await client.detectCapabilities();
    // flag off: the per-id handler stops at the flag, so its presence cannot be told
    expect(caps).toMatchObject({
      resourcesPath: '/api/resources',
      perIdTest: 'unknown',
      truenasEnabled: false,
      line: 'v6',
      authRequired: false,
    });
  });

  it('recognises v6 with the per-id test, and v6-rel without it', async () => {
    const v6 = await startFakePulse({ line: 'v6' });
    const v6Caps = await (await clientFor(v6.url)).detectCapabilities();
    expect(v6Caps).toMatchObject({ resourcesPath: '/api/resources', perIdTest: true, truenasEnabled: true, line: 'v6' });
    const rel = await startFakePulse({ line: 'v6-rel' });
    const relCaps = await (await clientFor(rel.url)).detectCapabilities();
    expect(relCaps).toMatchObject({ resourcesPath: '/api/resources', perIdTest: false, line: 'v6' });
    expect(relCaps.notes.join(' ')).toContain('body test is used');
  });

  it('fails with PulseAuthError when the token is missing on a protected Pulse', async () => {
    const pulse = await startFakePulse({ line: 'feb', token: TOKEN });
    const err = await caught((await clientFor(pulse.url)).detectCapabilities());
    expect(err).toBeInstanceOf(PulseAuthError);
  });
});

describe('PulseClient: creation and plan', () => {
  it('fails creation when the token env var is unset, naming it', async () => {
    await expect(
      PulseClient.create(PulseTargetSchema.parse({ url: 'http://127.0.0.1:1', token: { env: 'NOPE_TOKEN' } }), { env: {} }),
    ).rejects.toMatchObject({
      type: 'PulseTokenError',
      message: expect.stringContaining('NOPE_TOKEN is not set'),
    });
  });

  it('plans requests with the exact URL and the body redacted, without sending', async () => {
    const stub = await startStub(() => ({ status: 500 }));
    const client = await clientFor(`${stub.url}/`);
    expect(client.plan('GET', '/api/truenas/connections')).toEqual({
      kind: 'http',
      method: 'GET',
      url: `${stub.url}/api/truenas/connections`,
    });
    expect(client.describeAddConnection({ host: 'nas', api_key: API_KEY })).toMatchObject({
      body: { host: 'nas', apiKey: MASK, enabled: true },
    });
    expect(client.describeListTrueNASResources()).toMatchObject({ url: `${stub.url}/api/v2/resources?source=truenas&limit=100&page=1` });
    expect(client.describeDetectCapabilities().map((a) => (a.kind === 'http' ? a.method : ''))).toEqual(['GET', 'GET', 'GET', 'POST']);
    expect(stub.requests).toHaveLength(0);
  });
});
