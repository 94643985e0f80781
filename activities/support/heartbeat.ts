/**
 * Heartbeats and the activity journal: how a crashed worker is noticed in seconds, and how a retried step knows
 * what the attempt before it already did.
 *
 * - `heartbeating(fn)` wraps an activity: while it runs it heartbeats every third of its heartbeat timeout (the
 *   workflows set one on every activity, workflows/support/activity-options.ts), so when its worker dies Temporal
 *   sees the missing heartbeat after that timeout and retries the activity on another worker, instead of waiting
 *   out the whole start-to-close timeout (60 s for a Pulse call, several minutes for a restart).
 * - `activityJournal()` is what the attempts of one activity tell each other. Temporal keeps the details of the
 *   last heartbeat and hands them to the next attempt, so a step records "about to send the DELETE" before it does
 *   and "Pulse answered 200" after; a retry then reports what this run did (deleted, not "already gone") and does
 *   not restart Pulse twice. `record()` with `durable` waits until Temporal has stored the entry (a direct
 *   RecordActivityTaskHeartbeat through the worker's client), so it is there even if the worker dies a moment
 *   later; an ordinary heartbeat is sent in the background and could be lost with the process.
 *
 * Every heartbeat carries the whole journal, earlier attempts' entries included: a heartbeat replaces the stored
 * details, so one without them would erase what an earlier attempt recorded. Outside a worker (plain calls in unit
 * tests) all of this does nothing.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

export type JournalEntry = Record<string, unknown>;

interface JournalState {
  previous: JournalEntry[];
  mine: JournalEntry[];
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
    state = { previous, mine: [] };
    states.set(ctx, state);
  }
  return state;
}

function detailsOf(state: JournalState): { journal: JournalEntry[] } {
  return { journal: [...state.previous, ...state.mine] };
}

/** How often to heartbeat: a third of the heartbeat timeout (at least 200 ms), or every 10 s without one. */
export function heartbeatEveryMs(heartbeatTimeoutMs: number | undefined): number {
  return heartbeatTimeoutMs ? Math.max(200, Math.floor(heartbeatTimeoutMs / 3)) : 10_000;
}

/** Runs `fn` inside the current activity, heartbeating while it runs (with the journal, so nothing is erased). */
export async function keptAlive<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return fn();
  const state = stateOf(ctx);
  const beat = () => {
    try {
      ctx.heartbeat(detailsOf(state));
    } catch {
      // A heartbeat that cannot be sent (the activity is finishing) is not the activity's failure.
    }
  };
  beat();
  const timer = setInterval(beat, heartbeatEveryMs(ctx.info.heartbeatTimeoutMs));
  try {
    return await fn();
  } finally {
    clearInterval(timer);
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
   * Adds an entry. `durable` waits until Temporal stored it, so it survives this worker dying right after; a
   * durable record that Temporal refuses (this attempt timed out and another took over) throws, so the caller
   * does not act on a step that is no longer its own.
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
      const details = detailsOf(state);
      try {
        ctx.heartbeat(details);
      } catch {
        // See heartbeating().
      }
      if (!opts.durable) return;
      let client;
      try {
        client = ctx.client;
      } catch {
        return; // No client (a mock environment): the background heartbeat is all there is.
      }
      try {
        await client.activity.heartbeat(ctx.info.taskToken, details);
      } catch (err) {
        throw ApplicationFailure.create({
          type: 'ActivityJournalUnavailable',
          message: `could not record this step's progress with Temporal before acting (${(err as Error).message.split('\n')[0]}); not acting, so a retry cannot repeat or miscount it`,
        });
      }
    },
  };
}
