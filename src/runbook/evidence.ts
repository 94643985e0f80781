/**
 * The shapes every procedure shares: what a step would do (Action), and what was observed when it ran
 * (Evidence). Workflows keep Evidence per runbook step id; plan mode returns Actions instead of acting,
 * so the plan and the behaviour come from the same code.
 *
 * These types are plain JSON: they travel through Temporal payloads and must be deterministic to build.
 */
import { redact } from './redact.js';
import type { StepId } from './steps.js';

/** One side effect, described exactly enough that a person could perform it by hand. */
export type Action =
  | { kind: 'http'; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; body?: unknown; expect?: string }
  | { kind: 'command'; argv: string[]; cwd?: string; timeoutMs?: number; env?: Record<string, string> }
  | { kind: 'file'; op: 'read' | 'write' | 'delete' | 'stat'; path: string; change?: string }
  | { kind: 'wait'; seconds: number; reason: string }
  | { kind: 'human'; instruction: string };

export type Verdict = 'ok' | 'failed' | 'skipped' | 'planned' | 'human' | 'inconclusive';

/** What was observed for one runbook step, and when. Always redacted before it is built. */
export interface Evidence {
  step: StepId;
  /** ISO-8601 time of the observation (workflow time when built in a workflow). */
  at: string;
  verdict: Verdict;
  /** One sentence a person can read in the UI or a report. */
  summary: string;
  /** The actions taken (or, in plan mode, that would be taken). */
  actions?: Action[];
  /** Small structured facts: HTTP status, body excerpt, exit code, file hash, PromQL value. */
  details?: Record<string, unknown>;
  /** Where the software follows Pulse rather than the runbook's text (pulse-api.md §8). */
  deviation?: string;
}

/**
 * Evidence as an activity records it, now: the one way activities build it, so its details are always redacted
 * (a field named like a secret is masked, however deep). Summaries are the caller's text: they never quote a secret.
 */
export function evidence(
  step: StepId,
  verdict: Verdict,
  summary: string,
  actions: Action[],
  details?: Record<string, unknown>,
  /** The time observed when it is not now (a value the activity also returns); where the software deviates from the runbook. */
  extra: { at?: string; deviation?: string } = {},
): Evidence {
  const e: Evidence = { step, at: extra.at ?? new Date().toISOString(), verdict, summary, actions, details: details && redact(details) };
  return extra.deviation === undefined ? e : { ...e, deviation: extra.deviation };
}

/** The result every activity returns: what it did (or would do) and what it saw. */
export interface StepOutcome<T = undefined> {
  evidence: Evidence;
  value: T;
  /** The Pulse line that answered, and how it was told (Pulse activities only): workflows pass it on. */
  line?: { line: 'feb' | 'v6' | 'unknown'; seenFrom: string };
}
