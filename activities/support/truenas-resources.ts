/**
 * One read of the TrueNAS resources for every step that looks at them (enable.7, disable.5, kill-switch.5,
 * prereq.1): refresh the frontend state as the web UI does, read every page, tell the Pulse line from the route
 * that answered, and judge each resource the way that line allows (src/pulse/staleness.ts). Not an activity:
 * activities/pulse-resources.ts makes it one step's evidence, and enable.4's poller check reads it too.
 */
import type { PulseClient, TrueNASResourceListing } from '../../src/pulse/client.js';
import { describeLine, type LineEvidence } from '../../src/pulse/line.js';
import { describeListTrueNASResources, describeRefreshState } from '../../src/pulse/plan.js';
import {
  JUDGE_TEXT,
  judgeForLine,
  summariseTrueNASResources,
  truenasSourceAgeSeconds,
  truenasSourceState,
  type StalenessJudge,
  type TrueNASResourceSummary,
  type TrueNASSourceState,
} from '../../src/pulse/staleness.js';
import type { Action } from '../../src/runbook/evidence.js';

export interface ResourceView {
  id: string;
  name: string;
  type: string;
  /** The resource's own status (online | offline | warning | unknown). */
  resourceStatus: string;
  /** sourceStatus.truenas.status as Pulse reports it, or "missing". */
  truenasSourceStatus: string;
  /** The state as judged for this line (Pulse's status on v6, lastSeen arithmetic on Feb). */
  state: TrueNASSourceState;
  ageSeconds?: number;
}

export interface TrueNASResourceRead {
  listing: TrueNASResourceListing;
  summary: TrueNASResourceSummary;
  line: LineEvidence;
  judge: StalenessJudge;
  /** Up to SHOWN_RESOURCES resources, for evidence (the counts cover all of them). */
  views: ResourceView[];
  /** The requests made, for evidence. */
  actions: Action[];
  /** "Pulse line …; judged by …; refreshed …": the sentence every such evidence carries. */
  how: string;
}

const SHOWN_RESOURCES = 25;

export async function readTrueNASResources(
  client: PulseClient,
  baseUrl: string,
  staleThresholdSeconds: number,
): Promise<TrueNASResourceRead> {
  const listing = await client.listTrueNASResources();
  const now = new Date();
  const line = listing.line;
  const judge = judgeForLine(line.line);
  const summary = summariseTrueNASResources(listing.resources, now, staleThresholdSeconds, judge);
  const views = listing.resources.slice(0, SHOWN_RESOURCES).map((r): ResourceView => {
    const age = truenasSourceAgeSeconds(r, now);
    return {
      id: r.id,
      name: r.name,
      type: r.type,
      resourceStatus: r.status,
      truenasSourceStatus: r.sourceStatus?.truenas?.status ?? 'missing',
      state: truenasSourceState(r, now, staleThresholdSeconds, judge),
      ...(age !== undefined ? { ageSeconds: Math.floor(age) } : {}),
    };
  });
  const refreshed = listing.refresh?.refreshed
    ? 'read after GET /api/state refreshed the resource store'
    : `read without a state refresh (GET /api/state answered ${listing.refresh?.status ?? 'nothing'})`;
  return {
    listing,
    summary,
    line,
    judge,
    views,
    actions: [describeRefreshState(baseUrl), describeListTrueNASResources(baseUrl, listing.endpoint)],
    how: `Pulse is ${describeLine(line)}; resources ${refreshed}; judged by ${JUDGE_TEXT[judge]}.`,
  };
}

/** "4 TrueNAS resource(s) on /api/resources: 4 online, 0 stale, 0 offline (resource/source status: 4× online/online)". */
export function describeResources(read: TrueNASResourceRead): string {
  const { summary, listing, views } = read;
  if (summary.total === 0) return `no TrueNAS resources are listed on ${listing.endpoint}`;
  const statuses = new Map<string, number>();
  for (const v of views)
    statuses.set(`${v.resourceStatus}/${v.truenasSourceStatus}`, (statuses.get(`${v.resourceStatus}/${v.truenasSourceStatus}`) ?? 0) + 1);
  const shown = [...statuses].map(([k, n]) => `${n}× ${k}`).join(', ');
  return `${summary.total} TrueNAS resource(s) on ${listing.endpoint}: ${summary.online} online, ${summary.stale} stale, ${summary.offline} offline (resource/source status: ${shown})`;
}

/** Why no TrueNAS resource is listed after a disable or kill-switch, in the words of the line that answered. */
export function vanishedText(read: TrueNASResourceRead): string {
  return read.line.line === 'feb'
    ? "they vanished: the Feb line drops a removed connection's records on the next poller tick and never marks them stale (pulse-api.md §8.4)"
    : "they are gone: on the v6 line Pulse drops a removed connection's resources once the poller's tick has removed it and the store is rebuilt (pulse-api.md §10)";
}

/** Details every resource evidence carries. */
export function resourceDetails(read: TrueNASResourceRead, thresholdSeconds: number): Record<string, unknown> {
  return {
    endpoint: read.listing.endpoint,
    shape: read.listing.shape,
    pages: read.listing.pages,
    line: read.line.line,
    lineSeenFrom: read.line.seenFrom,
    judgedBy: read.judge,
    refreshed: read.listing.refresh?.refreshed ?? false,
    notes: read.listing.notes,
    thresholdSeconds,
    maxAgeSeconds: read.summary.maxAgeSeconds,
    onlineIds: read.summary.onlineIds,
    staleIds: read.summary.staleIds,
    resources: read.views,
  };
}
