/**
 * The state of each TrueNAS resource's source, judged one of two ways (`judge`):
 * - 'pulse' (the v6 line): Pulse's own `sourceStatus.truenas.status` after a state refresh. v6 marks the source
 *   stale itself when its store is rebuilt, and drops the resources of a removed connection on the poller's
 *   next tick (pulse-api.md §10); client-side arithmetic would call a resource stale that Pulse still lists
 *   online, so none is done.
 * - 'last-seen' (the Feb line, the fallback): Feb never flips the TrueNAS source to "stale" in
 *   /api/v2/resources (its records are ingested after MarkStale runs, §3.1), so the age of
 *   `sourceStatus.truenas.lastSeen` is computed here with Pulse's own rule: stale when now - lastSeen >
 *   threshold (120 s by default, `defaultStaleThresholds[SourceTrueNAS]`). A "stale" from Pulse counts too.
 * After a disable or kill-switch the usual end state is no TrueNAS resources at all.
 * Pure functions: `now` is a parameter so workflows can pass workflow time.
 */
import type { PulseLine } from './line.js';
import type { UnifiedResource } from './types.js';

/** How the source state is judged: Pulse's own status, or lastSeen arithmetic where Pulse never marks stale. */
export type StalenessJudge = 'pulse' | 'last-seen';

/** The judge for a line: only the Feb line needs (and gets) the client-side arithmetic. */
export function judgeForLine(line: PulseLine): StalenessJudge {
  return line === 'feb' ? 'last-seen' : 'pulse';
}

export const JUDGE_TEXT: Record<StalenessJudge, string> = {
  pulse: "Pulse's own sourceStatus.truenas.status after a state refresh",
  'last-seen':
    'the age of sourceStatus.truenas.lastSeen, computed here because the Feb line never marks the TrueNAS source stale (pulse-api.md §3.1)',
};

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
  judge: StalenessJudge = 'last-seen',
): TrueNASSourceState {
  const source = resource.sourceStatus?.truenas;
  if (!source) return 'missing';
  if (judge === 'pulse') {
    if (source.status === 'stale' || source.status === 'offline') return source.status;
    return 'online';
  }
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
  judge: StalenessJudge;
}

export function summariseTrueNASResources(
  resources: UnifiedResource[],
  now: Date,
  thresholdSeconds = TRUENAS_STALE_THRESHOLD_SECONDS,
  judge: StalenessJudge = 'last-seen',
): TrueNASResourceSummary {
  const ids: Record<TrueNASSourceState, string[]> = { online: [], stale: [], offline: [], missing: [] };
  let maxAge: number | undefined;
  for (const r of resources) {
    ids[truenasSourceState(r, now, thresholdSeconds, judge)].push(r.id);
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
    judge,
  };
}
