/**
 * `/api/truenas/connections*` (internal/api/truenas_handlers.go). Order of checks, as in Pulse:
 * authentication (401) → route method (405, plain text) → scope (403) → feature flag (404
 * `truenas_disabled`) → the handler's own validation. Feb routes only GET/POST on the collection,
 * POST on `/test` and DELETE on `/{id}`; v6 adds `PUT /{id}` and `POST /{id}/test`.
 */
import type { IncomingMessage } from 'node:http';
import { AuthState, type AuthResult } from './auth.js';
import { goDecode } from './go-json.js';
import {
  decodeInstance,
  instanceToWire,
  normalizeInstance,
  preserveMaskedSecrets,
  redactInstance,
  v6DefaultInstance,
  validateInstance,
  zeroInstance,
  type TrueNASInstance,
} from './instance.js';
import type { TrueNASPoller } from './poller.js';
import type { Profile } from './profiles.js';
import { apiError, jsonReply, methodNotAllowed, readBody, type Reply } from './reply.js';
import type { TrueNASStore } from './store.js';
import { TrueNASClient, type TrueNASError } from './truenas-client.js';
import { randomUUID } from 'node:crypto';

export const CONNECTIONS = '/api/truenas/connections';

export interface TrueNASContext {
  profile: Profile;
  flagEnabled: boolean;
  store: TrueNASStore;
  poller: TrueNASPoller;
  /** Timeout of the connection test (Pulse: 10 s). */
  testTimeoutMs: number;
}

type Handler = (req: IncomingMessage, path: string) => Promise<Reply>;
interface Route {
  scope: 'settings:read' | 'settings:write';
  handler: Handler;
}

export async function routeTrueNAS(req: IncomingMessage, path: string, ctx: TrueNASContext, auth: AuthState): Promise<Reply | undefined> {
  const route = pickRoute(req.method ?? 'GET', path, ctx);
  if (route === undefined) return undefined;
  const result: AuthResult = auth.check(req);
  if (!result.ok) return AuthState.unauthorized(result);
  if (route === 'method-not-allowed') return methodNotAllowed();
  const denied = AuthState.requireScope(result, route.scope);
  if (denied) return denied;
  if (!ctx.flagEnabled) return apiError(ctx.profile, 404, 'truenas_disabled', ctx.profile.disabledMessage);
  return route.handler(req, path);
}

function pickRoute(method: string, path: string, ctx: TrueNASContext): Route | 'method-not-allowed' | undefined {
  const h = handlers(ctx);
  if (path === CONNECTIONS) {
    if (method === 'GET') return { scope: 'settings:read', handler: h.list };
    if (method === 'POST') return { scope: 'settings:write', handler: h.add };
    return 'method-not-allowed';
  }
  if (path === `${CONNECTIONS}/test`) {
    return method === 'POST' ? { scope: 'settings:write', handler: h.test } : 'method-not-allowed';
  }
  if (!path.startsWith(`${CONNECTIONS}/`)) return undefined;
  if (method === 'DELETE') return { scope: 'settings:write', handler: h.remove };
  if (ctx.profile.savedConnectionRoutes) {
    if (method === 'PUT') return { scope: 'settings:write', handler: h.update };
    if (method === 'POST' && path.replace(/\/+$/, '').endsWith('/test')) return { scope: 'settings:write', handler: h.testSaved };
  }
  return 'method-not-allowed';
}

/** trueNASConnectionIDFromPath: one non-empty, unescaped segment without '/'. */
function idFromPath(path: string, suffix = ''): string | undefined {
  let raw = path.slice(CONNECTIONS.length + 1).replace(/^\/+|\/+$/g, '');
  if (suffix) {
    if (!raw.endsWith(suffix)) return undefined;
    raw = raw.slice(0, -suffix.length);
  }
  if (raw === '' || raw.includes('/')) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(raw).trim();
  } catch {
    return undefined;
  }
  return id === '' || id.includes('/') ? undefined : id;
}

function handlers(ctx: TrueNASContext): Record<'list' | 'add' | 'test' | 'remove' | 'update' | 'testSaved', Handler> {
  const { profile, store } = ctx;
  const fail = (status: number, code: string, message: string, details?: Record<string, string>) =>
    apiError(profile, status, code, message, details);
  const loadFailed = (err: unknown) =>
    fail(500, 'truenas_load_failed', 'Failed to load TrueNAS configuration', { error: (err as Error).message });
  const saveFailed = (err: unknown) =>
    fail(500, 'truenas_save_failed', 'Failed to save TrueNAS configuration', { error: (err as Error).message });

  /** MaxBytesReader(32 KiB) + json.Decode onto `base`. */
  async function decodeBody(req: IncomingMessage, base: TrueNASInstance): Promise<TrueNASInstance | Reply> {
    const body = await readBody(req);
    if (body.tooLarge) return fail(400, 'invalid_request', 'Invalid request body', { error: 'http: request body too large' });
    const parsed = goDecode(body.text);
    const decoded = parsed.ok ? decodeInstance(parsed.value, base) : parsed;
    if (!decoded.ok) return fail(400, 'invalid_request', 'Invalid request body', { error: decoded.error });
    return decoded.instance;
  }

  async function runTest(instance: TrueNASInstance): Promise<Reply> {
    let client: TrueNASClient;
    try {
      client = new TrueNASClient(instance, ctx.testTimeoutMs);
    } catch (err) {
      return fail(400, 'truenas_invalid_config', 'Invalid TrueNAS connection configuration', { error: (err as Error).message });
    }
    try {
      await client.testConnection();
    } catch (err) {
      return fail(400, 'truenas_connection_failed', 'Failed to connect to TrueNAS', { error: (err as TrueNASError).message });
    }
    return jsonReply(200, { success: true });
  }

  function loadOr(): TrueNASInstance[] | Reply {
    try {
      return store.load();
    } catch (err) {
      return loadFailed(err);
    }
  }

  return {
    async list() {
      const instances = loadOr();
      if (!Array.isArray(instances)) return instances;
      return jsonReply(
        200,
        instances.map((item) => {
          const shown = profile.listPollSummaries ? normalizeInstance(item, true) : item;
          const wire = instanceToWire(redactInstance(shown));
          return profile.listPollSummaries ? { ...wire, ...ctx.poller.summary(item) } : wire;
        }),
      );
    },

    async add(req) {
      const decoded = await decodeBody(req, profile.postDefaults ? v6DefaultInstance() : zeroInstance());
      if (!('id' in decoded)) return decoded;
      let instance = { ...decoded, id: decoded.id.trim() || randomUUID() };
      instance = normalizeInstance(instance, profile.postDefaults);
      const invalid = validateInstance(instance);
      if (invalid) return fail(400, 'validation_error', invalid);
      const existing = loadOr();
      if (!Array.isArray(existing)) return existing;
      try {
        store.save([...existing, instance]); // no uniqueness check on a client-supplied id, as in Pulse
      } catch (err) {
        return saveFailed(err);
      }
      return jsonReply(201, instanceToWire(redactInstance(instance)));
    },

    async test(req) {
      const decoded = await decodeBody(req, zeroInstance());
      if (!('id' in decoded)) return decoded;
      const instance = normalizeInstance(decoded, profile.postDefaults);
      const invalid = validateInstance(instance);
      if (invalid) return fail(400, 'validation_error', invalid);
      return runTest(instance);
    },

    async remove(_req, path) {
      const id = idFromPath(path);
      if (id === undefined) return fail(400, 'missing_connection_id', 'Connection ID is required');
      const instances = loadOr();
      if (!Array.isArray(instances)) return instances;
      const index = instances.findIndex((i) => i.id.trim() === id);
      if (index < 0) return fail(404, 'truenas_not_found', 'Connection not found');
      try {
        store.save(instances.filter((_, i) => i !== index));
      } catch (err) {
        return saveFailed(err);
      }
      return jsonReply(200, { success: true, id });
    },

    async update(req, path) {
      const id = idFromPath(path);
      if (id === undefined) return fail(400, 'missing_connection_id', 'Connection ID is required');
      const decoded = await decodeBody(req, zeroInstance());
      if (!('id' in decoded)) return decoded;
      let instance = normalizeInstance({ ...decoded, id }, true);
      const instances = loadOr();
      if (!Array.isArray(instances)) return instances;
      const index = instances.findIndex((i) => i.id.trim() === id);
      if (index < 0) return fail(404, 'truenas_not_found', 'Connection not found');
      instance = preserveMaskedSecrets(instance, instances[index]);
      const invalid = validateInstance(instance);
      if (invalid) return fail(400, 'validation_error', invalid);
      try {
        store.save(instances.map((item, i) => (i === index ? instance : item)));
      } catch (err) {
        return saveFailed(err);
      }
      return jsonReply(200, instanceToWire(redactInstance(instance)));
    },

    async testSaved(req, path) {
      const id = idFromPath(path.replace(/\/+$/, ''), '/test');
      if (id === undefined) return fail(400, 'missing_connection_id', 'Connection ID is required');
      const instances = loadOr();
      if (!Array.isArray(instances)) return instances;
      const stored = instances.find((i) => i.id.trim() === id);
      if (!stored) return fail(404, 'truenas_not_found', 'Connection not found');
      let instance = normalizeInstance(stored, true);
      const body = await readBody(req);
      if (body.tooLarge) return fail(400, 'invalid_request', 'Invalid request body', { error: 'http: request body too large' });
      if (body.text.trim() !== '') {
        const parsed = goDecode(body.text);
        const decoded = parsed.ok ? decodeInstance(parsed.value) : parsed;
        if (!decoded.ok) return fail(400, 'invalid_request', 'Invalid request body', { error: decoded.error });
        instance = preserveMaskedSecrets(normalizeInstance({ ...decoded.instance, id }, true), instance);
        const invalid = validateInstance(instance);
        if (invalid) return fail(400, 'validation_error', invalid);
      }
      return runTest(instance);
    },
  };
}
