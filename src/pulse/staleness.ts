/**
 * Client-side staleness of the TrueNAS source (pulse-api.md §3.1 Recommendation). Feb Pulse never flips the
 * TrueNAS source to "stale" in /api/v2/resources (its records are ingested after MarkStale runs), so the age
 * of `sourceStatus.truenas.lastSeen` is computed here with Pulse's own rule: stale when now - lastSeen >
 * threshold (120 s by default, `defaultStaleThresholds[SourceTrueNAS]`). v6 can report "stale" itself; both
 * signals count. After a disable or kill-switch the usual end state is no TrueNAS resources at all.
 * Pure functions: `now` is a parameter so workflows can pass workflow time.
 */
import type { UnifiedResource } from './types.js';

/** Pulse's default stale threshold for the TrueNAS source, in seconds. */
export const TRUENAS_STALE_THRESHOLD_SECONDS = 120;

/**
 * - 'online':  the TrueNAS source reported recently;
 * - 'stale':   Pulse says "stale", or its lastSeen is older than the threshold;
 * - 'offline': Pulse says the TrueNAS source is offline, and lastSeen is still recent;
 * - 'missing': the resource has no TrueNAS source status (the runbook's `// "missing"`).
 */
export type TrueNASSourceState = 'online' | 'stale' | 'offline' | 'missing';

/** Seconds since `sourceStatus.truenas.lastSeen`, or undefined when there is no parseable lastSeen. */
export function truenasSourceAgeSeconds(resource: UnifiedResource, now: Date): number | undefined {
  const lastSeen = resource.sourceStatus?.truenas?.lastSeen;
  if (!lastSeen) return undefined;
  const t = Date.parse(lastSeen);
  if (Number.isNaN(t)) return undefined;
  return (now.getTime() - t) / 1000;
}

export function truenasSourceState(
  resource: UnifiedResource,
  now: Date,
  thresholdSeconds = TRUENAS_STALE_THRESHOLD_SECONDS,
): TrueNASSourceState {
  const source = resource.sourceStatus?.truenas;
  if (!source) return 'missing';
  const age = truenasSourceAgeSeconds(resource, now);
  if (source.status === 'stale' || (age !== undefined && age > thresholdSeconds)) return 'stale';
  if (source.status === 'offline') return 'offline';
  return 'online';
}

export interface TrueNASResourceSummary {
  total: number;
  online: number;
  stale: number;
  offline: number;
  missing: number;
  onlineIds: string[];
  staleIds: string[];
  offlineIds: string[];
  missingIds: string[];
  /** Largest age of sourceStatus.truenas.lastSeen among the resources, in whole seconds. */
  maxAgeSeconds?: number;
  /** True when there are no TrueNAS resources: the expected outcome of a disable or kill-switch (§8.4). */
  noTrueNASResources: boolean;
  /** True when no resource still reports fresh TrueNAS data: every one is stale, offline or missing. */
  noFreshTrueNASData: boolean;
  thresholdSeconds: number;
}

export function summariseTrueNASResources(
  resources: UnifiedResource[],
  now: Date,
  thresholdSeconds = TRUENAS_STALE_THRESHOLD_SECONDS,
): TrueNASResourceSummary {
  const ids: Record<TrueNASSourceState, string[]> = { online: [], stale: [], offline: [], missing: [] };
  let maxAge: number | undefined;
  for (const r of resources) {
    ids[truenasSourceState(r, now, thresholdSeconds)].push(r.id);
    const age = truenasSourceAgeSeconds(r, now);
    if (age !== undefined && (maxAge === undefined || age > maxAge)) maxAge = age;
  }
  return {
    total: resources.length,
    online: ids.online.length,
    stale: ids.stale.length,
    offline: ids.offline.length,
    missing: ids.missing.length,
    onlineIds: ids.online,
    staleIds: ids.stale,
    offlineIds: ids.offline,
    missingIds: ids.missing,
    maxAgeSeconds: maxAge === undefined ? undefined : Math.floor(maxAge),
    noTrueNASResources: resources.length === 0,
    noFreshTrueNASData: ids.online.length === 0,
    thresholdSeconds,
  };
}
