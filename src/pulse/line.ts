/**
 * Which Pulse line answers, told from the API itself (never from a version string: source builds report what
 * their build flags say), and how to name it in evidence. Every Pulse-facing step names the line it saw and
 * the answer that told it, so a reader never has to guess which Pulse the evidence describes.
 *
 * - 'feb': the February 2026 development line the runbook was written against: `/api/v2/resources` serves the
 *   unified {data, meta} envelope, resources are ingested from the poller cache and never marked stale.
 * - 'v6':  v6.0.0 and later (main included): no `/api/v2/resources`, `/api/resources` is the unified API,
 *   connection list items carry the poller's record (`poll`, `observed`), and the resource store is refreshed
 *   only when something builds the frontend state (pulse-api.md §10).
 */
import type { TrueNASConnection } from './types.js';

export type PulseLine = 'feb' | 'v6' | 'unknown';

export interface LineEvidence {
  line: PulseLine;
  /** The answer that told the line, in plain words. */
  seenFrom: string;
}

export const PULSE_LINE_NAMES: Record<PulseLine, string> = {
  feb: 'the Feb 2026 development line',
  v6: 'the v6 line (v6.0.0 and later)',
  unknown: 'a Pulse line not recognised',
};

/** "the v6 line (v6.0.0 and later), seen from …": the phrase evidence uses. */
export function describeLine(e: LineEvidence): string {
  return `${PULSE_LINE_NAMES[e.line]}, seen from ${e.seenFrom}`;
}

/** The line told by the resources route that answered (client.listTrueNASResources). */
export function lineFromResources(endpoint: string, shape: 'unified' | 'legacy'): LineEvidence {
  if (endpoint === '/api/v2/resources' && shape === 'unified') {
    return { line: 'feb', seenFrom: '/api/v2/resources serving the {data, meta} envelope' };
  }
  if (endpoint === '/api/resources' && shape === 'unified') {
    return { line: 'v6', seenFrom: '/api/resources serving the unified {data, meta} envelope (no /api/v2/resources)' };
  }
  return { line: 'feb', seenFrom: `${endpoint} with the legacy {resources} shape` };
}

/**
 * The line told by the connections list: from v6.0.0 every item carries the poller's record (`poll`). A list
 * without it says nothing for sure (the Feb line, or a v6 build from before 2026-03-30), nor does an empty one.
 */
export function lineFromConnections(list: readonly TrueNASConnection[]): LineEvidence | undefined {
  if (list.some((c) => c.poll !== undefined)) return { line: 'v6', seenFrom: "the connections list carrying the poller's record (poll)" };
  return undefined;
}
