import {
  ConnectionOverridesSchema,
  NewConnectionSchema,
  ResourcePageSchema,
  TrueNASConnectionListSchema,
  UnifiedResourceSchema,
} from '../../src/pulse/types.js';
import { prepareNewConnection } from '../../src/pulse/input.js';
import { PulseValidationError } from '../../src/pulse/errors.js';
import { describeAddConnection, describeDeleteConnection, describeTestConnectionById } from '../../src/pulse/plan.js';
import { MASK } from '../../src/runbook/redact.js';

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  const r = NewConnectionSchema.safeParse(input);
  if (r.success) return [];
  return r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('NewConnectionSchema (the body Pulse needs, §2.2 / §8.1)', () => {
  it("translates the runbook's api_key to apiKey and defaults enabled to true", () => {
    const out = NewConnectionSchema.parse({ name: 'nas-1', host: 'truenas.local', api_key: 'k-123456' });
    expect(out).toEqual({ name: 'nas-1', host: 'truenas.local', apiKey: 'k-123456', enabled: true });
    expect(out).not.toHaveProperty('api_key');
  });

  it('keeps an explicit enabled:false and an apiKey given in camelCase', () => {
    const out = NewConnectionSchema.parse({ host: 'https://nas:8443', apiKey: 'k', enabled: false });
    expect(out).toEqual({ host: 'https://nas:8443', apiKey: 'k', enabled: false });
  });

  it('accepts username + password instead of an api key', () => {
    expect(NewConnectionSchema.parse({ host: 'nas', username: 'root', password: 'pw' }).enabled).toBe(true);
  });

  it('names host when it is missing or blank', () => {
    expect(issuesOf({ api_key: 'k' })).toEqual([{ path: 'host', message: expect.stringContaining('host is required') }]);
    expect(issuesOf({ host: '   ', api_key: 'k' })).toEqual([{ path: 'host', message: expect.stringContaining('host is required') }]);
  });

  it('names apiKey when no credentials are given, and password when only the username is', () => {
    expect(issuesOf({ host: 'nas' })).toEqual([{ path: 'apiKey', message: expect.stringContaining('credentials are required') }]);
    expect(issuesOf({ host: 'nas', api_key: '  ' })[0].path).toBe('apiKey');
    expect(issuesOf({ host: 'nas', username: 'root' })).toEqual([
      { path: 'password', message: expect.stringContaining('username and password') },
    ]);
  });

  it('refuses a host with a path, query or userinfo, and a non-http scheme', () => {
    expect(issuesOf({ host: 'https://nas/api', api_key: 'k' })[0]).toEqual({
      path: 'host',
      message: expect.stringContaining('without a path'),
    });
    expect(issuesOf({ host: 'nas?x=1', api_key: 'k' })[0].path).toBe('host');
    expect(issuesOf({ host: 'https://u:p@nas', api_key: 'k' })[0].message).toContain('user:password@');
    expect(issuesOf({ host: 'ftp://nas', api_key: 'k' })[0].message).toContain('http:// or https://');
  });

  it('refuses unknown fields by name and conflicting key spellings', () => {
    const r = NewConnectionSchema.safeParse({ host: 'nas', apikey: 'k' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('apikey');
    expect(issuesOf({ host: 'nas', api_key: 'a', apiKey: 'b' })).toEqual([
      { path: 'api_key', message: expect.stringContaining('give only apiKey') },
    ]);
  });

  it('prepareNewConnection reports the translations and throws a PulseValidationError naming fields', () => {
    const p = prepareNewConnection({ host: 'nas', api_key: 'k-123456' }, 'POST', '/api/truenas/connections');
    expect(p.secrets).toEqual(['k-123456']);
    expect(p.notes.join(' ')).toMatch(/api_key was sent as apiKey.*§8\.1/);
    expect(p.notes.join(' ')).toMatch(/enabled was set to true/);
    let err: unknown;
    try {
      prepareNewConnection({ name: 'x' }, 'POST', '/api/truenas/connections');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PulseValidationError);
    const v = err as PulseValidationError;
    expect(v.status).toBeUndefined();
    expect(v.code).toBe('client_validation');
    expect(v.message).toMatch(/^POST \/api\/truenas\/connections refused before sending: host: host is required/);
    expect(v.message).toContain('apiKey: credentials are required');
  });
});

describe('ConnectionOverridesSchema (per-id test body)', () => {
  it('requires nothing, translates api_key and does not invent enabled', () => {
    expect(ConnectionOverridesSchema.parse({})).toEqual({});
    expect(ConnectionOverridesSchema.parse({ api_key: MASK })).toEqual({ apiKey: MASK });
  });
});

describe('answer schemas', () => {
  it('accepts v6 connections with poll/observed and keeps unknown fields', () => {
    const list = TrueNASConnectionListSchema.parse([
      {
        id: 'c1',
        host: 'https://nas',
        apiKey: MASK,
        useHttps: false,
        enabled: true,
        poll: { intervalSeconds: 60, consecutiveFailures: 0, lastError: { message: 'x' } },
        observed: { host: 'nas', systems: 1 },
        futureField: 42,
      },
    ]);
    expect(list[0].poll?.intervalSeconds).toBe(60);
    expect((list[0] as Record<string, unknown>).futureField).toBe(42);
  });

  it('rejects an error object where the connection list is due (§8.2)', () => {
    expect(TrueNASConnectionListSchema.safeParse({ error: 'x', code: 'truenas_disabled' }).success).toBe(false);
  });

  it('parses a resource page and passes unknown resource fields through', () => {
    const page = ResourcePageSchema.parse({
      data: [{ id: 'r', type: 'storage', name: 'tank', status: 'online', sources: ['truenas'], zfs: { x: 1 } }],
      meta: { page: 1, limit: 100, total: 1, totalPages: 1 },
      aggregations: { total: 1 },
    });
    expect((page.data[0] as Record<string, unknown>).zfs).toEqual({ x: 1 });
    expect(UnifiedResourceSchema.safeParse({ id: 'r' }).success).toBe(false);
  });
});

describe('plan actions', () => {
  const base = 'http://pulse.test:7655';

  it('describes add with the translated body and the key masked', () => {
    const action = describeAddConnection(base, { name: 'nas-1', host: 'truenas.local', api_key: 'super-secret-key' });
    expect(action).toEqual({
      kind: 'http',
      method: 'POST',
      url: 'http://pulse.test:7655/api/truenas/connections',
      body: { name: 'nas-1', host: 'truenas.local', apiKey: MASK, enabled: true },
      expect: expect.stringContaining('201'),
    });
    expect(JSON.stringify(action)).not.toContain('super-secret-key');
  });

  it('describes delete with the id encoded, and refuses ids Pulse would refuse', () => {
    expect(describeDeleteConnection(base, 'a b').url).toBe('http://pulse.test:7655/api/truenas/connections/a%20b');
    expect(() => describeDeleteConnection(base, '')).toThrow(PulseValidationError);
    expect(() => describeDeleteConnection(base, 'a/b')).toThrow(/contains "\/"/);
    expect(() => describeDeleteConnection(base, '..')).toThrow(/another route/);
  });

  it('describes the per-id test with an empty override body', () => {
    const a = describeTestConnectionById(base, 'id-1');
    expect(a).toMatchObject({ method: 'POST', url: `${base}/api/truenas/connections/id-1/test`, body: {} });
  });
});
