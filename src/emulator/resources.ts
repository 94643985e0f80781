/**
 * Unified resources built from TrueNAS snapshots (internal/truenas/provider.go Records(), Feb version)
 * and listed the way internal/api/resources_v2.go does: filters, sort (default name asc), pagination
 * (default 50, max 100) and aggregations over the unfiltered set.
 * - The system is type "host" (v6: "agent"), pools and datasets are "storage" with truenas tags.
 * - ZFS mapping: ONLINE/HEALTHY → online, DEGRADED → warning, FAULTED/OFFLINE/REMOVED/UNAVAIL → offline,
 *   else unknown; a dataset not mounted → offline, read-only → warning.
 * - v6 only: markStale sets sourceStatus.truenas.status "stale" and online → warning after the threshold.
 */
import { createHash } from 'node:crypto';
import { goTime } from './go-json.js';
import type { Profile } from './profiles.js';
import type { Snapshot } from './truenas-client.js';

export type ResourceStatus = 'online' | 'offline' | 'warning' | 'unknown';

export interface IngestRecord {
  sourceId: string;
  parentSourceId?: string;
  type: 'host' | 'storage';
  name: string;
  status: ResourceStatus;
  lastSeen: Date;
  tags: string[];
  disk?: { total: number; used: number };
  storage?: { type: string; isZfs: boolean; zfsPoolState?: string };
  truenas?: { hostname: string; version: string; uptimeSeconds: number };
  identity: { machineId?: string; hostnames: string[] };
}

function poolStatus(s: string): ResourceStatus {
  const v = s.trim().toUpperCase();
  if (v === 'ONLINE' || v === 'HEALTHY') return 'online';
  if (v === 'DEGRADED') return 'warning';
  if (['FAULTED', 'OFFLINE', 'REMOVED', 'UNAVAIL'].includes(v)) return 'offline';
  return 'unknown';
}

/** Provider.Records(): one host, one storage per pool, one storage per dataset. */
export function recordsFromSnapshot(snap: Snapshot): IngestRecord[] {
  const host = snap.system.hostname;
  const systemId = `system:${host}`;
  const at = snap.collectedAt;
  const total = snap.pools.reduce((n, p) => n + p.totalBytes, 0);
  const used = snap.pools.reduce((n, p) => n + p.usedBytes, 0);
  const records: IngestRecord[] = [
    {
      sourceId: systemId,
      type: 'host',
      name: host,
      status: snap.system.healthy ? 'online' : 'warning',
      lastSeen: at,
      tags: ['truenas', snap.system.version, 'zfs'],
      disk: total > 0 ? { total, used } : undefined,
      truenas: { hostname: host, version: snap.system.version, uptimeSeconds: snap.system.uptimeSeconds },
      identity: { machineId: snap.system.machineId || undefined, hostnames: [host] },
    },
  ];
  for (const pool of snap.pools) {
    records.push({
      sourceId: `pool:${pool.name}`,
      parentSourceId: systemId,
      type: 'storage',
      name: pool.name,
      status: poolStatus(pool.status),
      lastSeen: at,
      tags: ['truenas', 'pool', 'zfs', `health:${pool.status.trim().toLowerCase()}`],
      disk: pool.totalBytes > 0 ? { total: pool.totalBytes, used: pool.usedBytes } : undefined,
      storage: { type: 'zfs-pool', isZfs: true },
      identity: { hostnames: [host, pool.name] },
    });
  }
  for (const ds of snap.datasets) {
    const totalBytes = ds.usedBytes + ds.availBytes;
    records.push({
      sourceId: `dataset:${ds.name}`,
      parentSourceId: `pool:${ds.pool || ds.name.split('/')[0]}`,
      type: 'storage',
      name: ds.name,
      status: !ds.mounted ? 'offline' : ds.readOnly ? 'warning' : 'online',
      lastSeen: at,
      tags: ['truenas', 'dataset', 'zfs', !ds.mounted ? 'state:unmounted' : ds.readOnly ? 'state:readonly' : 'state:mounted'],
      disk: totalBytes > 0 ? { total: totalBytes, used: ds.usedBytes } : undefined,
      storage: { type: 'zfs-dataset', isZfs: true },
      identity: { hostnames: [host, ds.name] },
    });
  }
  return records;
}

/** SourceSpecificID: `<type>-<hex(sha256("truenas:<sourceId>")[:8])>`. */
export function resourceId(type: string, sourceId: string): string {
  return `${type}-${createHash('sha256').update(`truenas:${sourceId.trim()}`).digest('hex').slice(0, 16)}`;
}

export interface Resource {
  id: string;
  type: string;
  name: string;
  status: ResourceStatus;
  lastSeen: Date;
  sourceStatus: 'online' | 'stale';
  record: IngestRecord;
  parentId?: string;
  childCount: number;
}

/** Registry: ids, parents, child counts; v6 marks stale against `now`. */
export function buildResources(records: IngestRecord[], profile: Profile, staleSeconds: number, now = new Date()): Resource[] {
  const byId = new Map<string, Resource>();
  const idOfSource = new Map<string, string>();
  for (const rec of records) {
    const type = rec.type === 'host' ? profile.systemResourceType : rec.type;
    const id = resourceId(type, rec.sourceId);
    idOfSource.set(rec.sourceId, id);
    byId.set(id, {
      id,
      type,
      name: rec.name,
      status: rec.status,
      lastSeen: rec.lastSeen,
      sourceStatus: 'online',
      record: rec,
      childCount: 0,
    });
  }
  for (const res of byId.values()) {
    const parent = res.record.parentSourceId ? idOfSource.get(res.record.parentSourceId) : undefined;
    if (parent && byId.has(parent)) {
      res.parentId = parent;
      byId.get(parent)!.childCount += 1;
    }
    if (profile.marksStale && now.getTime() - res.lastSeen.getTime() > staleSeconds * 1000) {
      res.sourceStatus = 'stale';
      if (res.status === 'online') res.status = 'warning';
    }
  }
  return [...byId.values()];
}

export function resourceToWire(r: Resource, profile: Profile): Record<string, unknown> {
  const rec = r.record;
  const out: Record<string, unknown> = {
    id: r.id,
    type: r.type,
    name: r.name,
    status: r.status,
    lastSeen: goTime(r.lastSeen),
    updatedAt: goTime(r.lastSeen),
    sources: ['truenas'],
    sourceStatus: { truenas: { status: r.sourceStatus, lastSeen: goTime(r.lastSeen), error: '' } },
  };
  if (r.parentId) out.parentId = r.parentId;
  if (r.childCount > 0) out.childCount = r.childCount;
  out.tags = rec.tags;
  out.identity = { ...(rec.identity.machineId ? { machineId: rec.identity.machineId } : {}), hostnames: rec.identity.hostnames };
  if (rec.disk) {
    const percent = (rec.disk.used / rec.disk.total) * 100;
    out.metrics = { disk: { value: percent, total: rec.disk.total, used: rec.disk.used, percent, unit: 'bytes' } };
  }
  if (rec.storage) out.storage = rec.storage;
  if (rec.truenas && profile.name === 'v6') out.truenas = rec.truenas;
  if (rec.type === 'host') {
    out.discoveryTarget = { resourceType: 'host', hostId: r.name, resourceId: r.name, hostname: r.name };
  }
  return out;
}

export interface ListQuery {
  page: number;
  limit: number;
  types: Set<string>;
  sources: Set<string>;
  statuses: Set<string>;
  parent: string;
  q: string;
  tags: Set<string>;
  sort: string;
  order: 'asc' | 'desc';
}

/** Filter words Pulse recognises; anything else is silently ignored, as in parseResourceTypesV2. */
const KNOWN_TYPES: Record<string, string> = {
  storage: 'storage',
  vm: 'vm',
  vms: 'vm',
  qemu: 'vm',
  lxc: 'lxc',
  lxcs: 'lxc',
  container: 'container',
  containers: 'container',
  pod: 'pod',
  pods: 'pod',
  pbs: 'pbs',
  pmg: 'pmg',
  ceph: 'ceph',
};
const KNOWN_SOURCES = ['proxmox', 'agent', 'docker', 'pbs', 'pmg', 'kubernetes', 'truenas'];
const csv = (raw: string | null) =>
  (raw ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
const intOr = (raw: string | null, def: number) => (raw && /^[+-]?\d+$/.test(raw) ? Number(raw) : def);

/** parseListFilters: unknown filter words are ignored; bad numbers fall back to defaults. */
export function parseListQuery(params: URLSearchParams, profile: Profile): ListQuery {
  const types = new Set<string>();
  const hostWords = profile.systemResourceType === 'agent' ? ['host', 'hosts', 'agent', 'agents'] : ['host', 'hosts'];
  for (const t of csv(params.get('type'))) {
    if (hostWords.includes(t)) types.add(profile.systemResourceType);
    else if (KNOWN_TYPES[t]) types.add(KNOWN_TYPES[t]);
  }
  let page = intOr(params.get('page'), 1);
  let limit = intOr(params.get('limit'), 50);
  if (page < 1) page = 1;
  if (limit < 1) limit = 50;
  if (limit > 100) limit = 100;
  return {
    page,
    limit,
    types,
    sources: new Set(csv(params.get('source')).filter((src) => KNOWN_SOURCES.includes(src))),
    statuses: new Set(csv(params.get('status')).filter((s) => ['online', 'offline', 'warning', 'unknown'].includes(s))),
    parent: (params.get('parent') ?? '').trim(),
    q: (params.get('q') ?? '').trim().toLowerCase(),
    tags: new Set(csv(params.get('tags'))),
    sort: (params.get('sort') ?? '').trim() || 'name',
    order: (params.get('order') ?? '').trim().toLowerCase() === 'desc' ? 'desc' : 'asc',
  };
}

export function listResources(all: Resource[], query: ListQuery, profile: Profile) {
  const filtered = all.filter(
    (r) =>
      (query.types.size === 0 || query.types.has(r.type)) &&
      (query.sources.size === 0 || query.sources.has('truenas')) &&
      (query.statuses.size === 0 || query.statuses.has(r.status)) &&
      (query.parent === '' || r.parentId === query.parent) &&
      (query.q === '' || r.name.toLowerCase().includes(query.q)) &&
      (query.tags.size === 0 || r.record.tags.some((t) => query.tags.has(t.toLowerCase()))),
  );
  const key = (r: Resource): string | number =>
    query.sort === 'status'
      ? r.status
      : query.sort === 'type'
        ? r.type
        : query.sort === 'lastSeen'
          ? r.lastSeen.getTime()
          : r.name.toLowerCase();
  filtered.sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    const cmp = ka < kb ? -1 : ka > kb ? 1 : 0;
    return query.order === 'desc' ? -cmp : cmp;
  });
  const total = filtered.length;
  const start = Math.min((query.page - 1) * query.limit, total);
  const data = filtered.slice(start, start + query.limit).map((r) => resourceToWire(r, profile));
  return {
    data,
    meta: { page: query.page, limit: query.limit, total, totalPages: Math.ceil(total / query.limit) },
    aggregations: stats(all),
  };
}

export function stats(all: Resource[]) {
  const count = (pick: (r: Resource) => string) =>
    all.reduce<Record<string, number>>((acc, r) => ({ ...acc, [pick(r)]: (acc[pick(r)] ?? 0) + 1 }), {});
  return {
    total: all.length,
    byType: count((r) => r.type),
    byStatus: count((r) => r.status),
    bySource: all.length > 0 ? { truenas: all.length } : {},
  };
}
