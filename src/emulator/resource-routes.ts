/**
 * Resource endpoints (RequireAuth + scope `monitoring:read`):
 * - Feb: `GET /api/v2/resources` (+ `/stats`, `/{id}`) with the data/meta/aggregations envelope, and the
 *   legacy `GET /api/resources` `{resources,count,stats}` that is filled only from the (empty) monitor
 *   snapshot, so it never contains TrueNAS.
 * - v6: no `/api/v2/resources` (404); `/api/resources` is the unified API with stale marking, serving the store
 *   as the last frontend-state build left it (resource-store.ts).
 * - both: `GET /api/state`, the frontend state the web UI loads; building it refreshes v6's store.
 * The emulator has no Proxmox, agents or Docker, so TrueNAS records are the only resources.
 */
import type { IncomingMessage } from 'node:http';
import { AuthState } from './auth.js';
import type { Profile } from './profiles.js';
import { apiError, jsonReply, methodNotAllowed, textError, type Reply } from './reply.js';
import type { ResourceStore } from './resource-store.js';
import { listResources, parseListQuery, resourceToWire, stats } from './resources.js';

export interface ResourceContext {
  profile: Profile;
  store: ResourceStore;
}

function matches(path: string, profile: Profile): 'state' | 'unified-list' | 'unified-stats' | 'unified-item' | 'legacy' | undefined {
  if (path === '/api/state') return 'state';
  const unifiedBase = profile.v2ResourcesRoute ? '/api/v2/resources' : '/api/resources';
  if (path === unifiedBase) return 'unified-list';
  if (path === `${unifiedBase}/stats`) return 'unified-stats';
  if (path.startsWith(`${unifiedBase}/`)) return 'unified-item';
  if (profile.v2ResourcesRoute && path === '/api/resources') return 'legacy';
  return undefined;
}

export function routeResources(
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
  ctx: ResourceContext,
  auth: AuthState,
): Reply | undefined {
  const kind = matches(path, ctx.profile);
  if (!kind) return undefined;
  const result = auth.check(req);
  if (!result.ok) return AuthState.unauthorized(result);
  const denied = AuthState.requireScope(result, 'monitoring:read');
  if (denied) return denied;
  if (req.method !== 'GET')
    return kind === 'state' ? apiError(ctx.profile, 405, 'method_not_allowed', 'Only GET method is allowed') : methodNotAllowed();

  if (kind === 'state') {
    // The real frontend state has nodes, guests, storage… of which the emulator has none; only its resources.
    const built = ctx.store.buildFrontendState();
    return jsonReply(200, {
      nodes: [],
      vms: [],
      containers: [],
      storage: [],
      resources: built.map((r) => resourceToWire(r, ctx.profile)),
      lastUpdate: new Date().toISOString(),
    });
  }
  if (kind === 'legacy') {
    return jsonReply(200, { resources: [], count: 0, stats: { total: 0, byType: {}, byPlatform: {}, byStatus: {} } });
  }
  const all = ctx.store.current();
  if (kind === 'unified-stats') return jsonReply(200, stats(all));
  if (kind === 'unified-item') {
    const base = ctx.profile.v2ResourcesRoute ? '/api/v2/resources/' : '/api/resources/';
    const rest = path.slice(base.length).replace(/\/+$/, '');
    const wantChildren = rest.endsWith('/children');
    const id = wantChildren ? rest.slice(0, -'/children'.length) : rest;
    if (id === '') return textError(400, 'Resource ID required');
    if (wantChildren) {
      const children = all.filter((r) => r.parentId === id).map((r) => resourceToWire(r, ctx.profile));
      return jsonReply(200, { data: children, count: children.length });
    }
    const found = all.find((r) => r.id === id);
    return found ? jsonReply(200, resourceToWire(found, ctx.profile)) : textError(404, 'Resource not found');
  }
  return jsonReply(200, listResources(all, parseListQuery(query, ctx.profile), ctx.profile));
}
