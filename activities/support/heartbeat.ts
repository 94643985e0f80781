/**
 * Heartbeats and the activity journal: how a crashed worker is noticed in seconds, and how a retried step knows
 * what the attempt before it already did.
 *
 * - `keptAlive(fn)` runs an activity body while heartbeating every third of its heartbeat timeout (the workflows
 *   set one on every activity, workflows/support/activity-options.ts), so when its worker dies Temporal sees the
 *   missing heartbeat after that timeout and retries the activity on another worker, instead of waiting out the
 *   whole start-to-close timeout (60 s for a Pulse call, several minutes for a restart).
 * - `activityJournal()` is what the attempts of one activity tell each other. Temporal keeps the details of the
 *   last heartbeat and hands them to the next attempt, so a step records "about to send the DELETE" before it does
 *   and "Pulse answered 200" after; a retry then reports what this run did (deleted, not "already gone") and does
 *   not restart Pulse twice. `record(…, { durable })` returns once Temporal has stored the entry.
 *
 * Every heartbeat carries the whole journal, earlier attempts' entries included: a heartbeat replaces the stored
 * details. For the same reason the heartbeats are sent one after another, in order, through the worker's client
 * (RecordActivityTaskHeartbeat), not through the SDK's background heartbeats: those are sent later, throttled, and
 * one carrying older details could land after a newer entry and erase it (seen in the fault matrix). A heartbeat
 * answered "cancel requested" or "no such attempt" (this attempt timed out, another runs) stops the body: its
 * `activitySignal()` aborts and keptAlive rejects. Outside a worker (plain calls in unit tests) nothing is sent; in
 * a mock environment without a client the SDK's own heartbeat is used.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';

export type JournalEntry = Record<string, unknown>;

interface JournalState {
  previous: JournalEntry[];
  mine: JournalEntry[];
  /** The worker's client; null in a mock environment (no client), undefined until first looked up. */
  client?: Client | null;
  /** The heartbeat sent last, so the next one goes out after it. */
  chain: Promise<void>;
  /** Aborted when Temporal answers a heartbeat with "cancel" or "no such attempt". */
  stop: AbortController;
  stopReason?: string;
}

const states = new WeakMap<Context, JournalState>();

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function stateOf(ctx: Context): JournalState {
  let state = states.get(ctx);
  if (!state) {
    const details = ctx.info.heartbeatDetails as { journal?: unknown } | undefined;
    const previous = Array.isArray(details?.journal) ? (details.journal as JournalEntry[]) : [];
    state = { previous, mine: [], chain: Promise.resolve(), stop: new AbortController() };
    states.set(ctx, state);
  }
  return state;
}

function detailsOf(state: JournalState): { journal: JournalEntry[] } {
  return { journal: [...state.previous, ...state.mine] };
}

function clientOf(ctx: Context, state: JournalState): Client | null {
  if (state.client === undefined) {
    try {
      state.client = ctx.client;
    } catch {
      state.client = null;
    }
  }
  return state.client;
}

/** Sends the journal as it is now, after the heartbeat before it; resolves once Temporal stored it. */
function beat(ctx: Context, state: JournalState): Promise<void> {
  const details = detailsOf(state);
  const client = clientOf(ctx, state);
  if (!client) {
    ctx.heartbeat(details);
    return Promise.resolve();
  }
  const sent = state.chain.then(() => client.activity.heartbeat(ctx.info.taskToken, details));
  state.chain = sent.catch((err: Error) => {
    if (['ActivityCancelledError', 'ActivityNotFoundError', 'ActivityPausedError', 'ActivityResetError'].includes(err.name)) {
      state.stopReason ??=
        err.name === 'ActivityNotFoundError'
          ? 'this attempt is no longer current (it timed out and was retried)'
          : `Temporal asked it to stop (${err.name})`;
      state.stop.abort();
    }
  });
  return sent;
}

/** How often to heartbeat: a third of the heartbeat timeout (at least 200 ms), or every 10 s without one. */
export function heartbeatEveryMs(heartbeatTimeoutMs: number | undefined): number {
  return heartbeatTimeoutMs ? Math.max(200, Math.floor(heartbeatTimeoutMs / 3)) : 10_000;
}

/**
 * Aborts when the activity is cancelled, or when Temporal says this attempt is no longer current: pass it to
 * commands and requests that should stop then.
 */
export function activitySignal(): AbortSignal | undefined {
  const ctx = currentContext();
  if (!ctx) return undefined;
  return AbortSignal.any([ctx.cancellationSignal, stateOf(ctx).stop.signal]);
}

/** Runs `fn` inside the current activity, heartbeating while it runs (with the journal, so nothing is erased). */
export async function keptAlive<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return fn();
  const state = stateOf(ctx);
  const tick = () => void beat(ctx, state).catch(() => undefined);
  tick();
  const timer = setInterval(tick, heartbeatEveryMs(ctx.info.heartbeatTimeoutMs));
  let onStop: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onStop = () => reject(new CancelledFailure(`stopped: ${state.stopReason ?? 'cancelled'}`));
    state.stop.signal.addEventListener('abort', onStop, { once: true });
  });
  stopped.catch(() => undefined);
  try {
    return await Promise.race([fn(), stopped]);
  } finally {
    clearInterval(timer);
    if (onStop) state.stop.signal.removeEventListener('abort', onStop);
  }
}

/** The activity `fn`, heartbeating while it runs (keptAlive around every call). */
export function heartbeating<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => keptAlive(() => fn(...args));
}

export interface ActivityJournal<E extends JournalEntry> {
  /** What earlier attempts of this activity recorded, oldest first (empty on the first attempt). */
  readonly previous: E[];
  /** This attempt's number (1 for the first). */
  readonly attempt: number;
  /**
   * Adds an entry. `durable` returns once Temporal stored it, so it survives this worker dying right after; a
   * durable record Temporal does not take (this attempt timed out and another took over, or Temporal cannot be
   * reached) throws, so the caller does not act on a step that is no longer its own or could not be recorded.
   */
  record(entry: E, opts?: { durable?: boolean }): Promise<void>;
}

export function activityJournal<E extends JournalEntry>(): ActivityJournal<E> {
  const ctx = currentContext();
  if (!ctx) return { previous: [], attempt: 1, record: async () => undefined };
  const state = stateOf(ctx);
  return {
    previous: state.previous as E[],
    attempt: ctx.info.attempt,
    async record(entry, opts = {}) {
      state.mine.push(entry);
      const sent = beat(ctx, state);
      if (!opts.durable) {
        sent.catch(() => undefined);
        return;
      }
      try {
        await sent;
      } catch (err) {
        throw ApplicationFailure.create({
          type: 'ActivityJournalUnavailable',
          message: `could not record this step's progress with Temporal before acting (${(err as Error).message.split('\n')[0]}); not acting, so a retry cannot repeat or miscount it`,
        });
      }
    },
  };
}
