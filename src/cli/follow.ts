/**
 * Follows a run to its end: prints each new piece of evidence as the workflow records it (through the `progress`
 * query) and what it is waiting for, then the result or a clear failure.
 *
 * Through a Temporal outage. A broken line to Temporal is not a failed procedure: the run goes on on the server
 * (timers fire, the worker reconnects). So when the server cannot be reached, this says so once ("lost contact …,
 * reconnecting"), keeps reconnecting with a fresh connection for up to `reconnectForSeconds`, and when the server
 * answers again reads the run's real outcome. If it gives up, the outcome is 'lost-contact' (exit 3) and the
 * caller prints how to follow the run later; it never reports the run as failed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../../workflows/procedure.messages.js';
import type { Progress } from '../../workflows/support/evidence-log.js';
import { isContactLoss, isUndecodable, reasonOf } from './contact.js';
import { renderEvidence } from './render.js';
import { readCloseEvent } from './close-event.js';

export interface FollowOptions {
  json: boolean;
  out: NodeJS.WritableStream;
  /** Where "lost contact / reconnected" lines go (stderr by default). */
  err?: NodeJS.WritableStream;
  pollMs?: number;
  /** How long to keep reconnecting after contact is lost before giving up (exit 3). */
  reconnectForSeconds?: number;
}

/** How to reach Temporal again: a new client over a new connection (an old channel may sit in a long backoff). */
export interface FollowConnection {
  client: Client;
  address: string;
  reconnect: () => Promise<Client>;
}

export type FollowOutcome<R> =
  | { kind: 'completed'; ok: true; result: R }
  | { kind: 'failed'; ok: false; error: string; failureType?: string; progress?: Progress }
  | { kind: 'lost-contact'; ok: false; error: string; lostForSeconds: number; progress?: Progress }
  | { kind: 'unreadable'; ok: false; error: string; status: string; failureType?: string };

export const DEFAULT_RECONNECT_SECONDS = 300;

interface ContactState {
  lostAt?: number;
  announced: boolean;
}

export async function followRun<R>(
  conn: FollowConnection,
  target: { workflowId: string; runId?: string },
  opts: FollowOptions,
): Promise<FollowOutcome<R>> {
  const errOut = opts.err ?? process.stderr;
  const reconnectMs = (opts.reconnectForSeconds ?? DEFAULT_RECONNECT_SECONDS) * 1000;
  const contact: ContactState = { announced: false };
  let shown = 0;
  let lastWaiting = '';
  let progress: Progress | undefined;
  const print = (p: Progress) => {
    if (opts.json) return;
    for (const e of p.evidence.slice(shown)) opts.out.write(`${renderEvidence(e)}\n`);
    shown = Math.max(shown, p.evidence.length);
    const waiting = p.current?.waitingFor ? `… waiting for ${p.current.waitingFor} [${p.current.step}]` : '';
    if (waiting && waiting !== lastWaiting) opts.out.write(`${waiting}\n`);
    lastWaiting = waiting;
  };
  const lost = (err: unknown) => {
    contact.lostAt ??= Date.now();
    if (!contact.announced) {
      contact.announced = true;
      errOut.write(
        `lost contact with Temporal at ${conn.address} (${reasonOf(err)}); the run goes on on the server. ` +
          `Reconnecting for up to ${Math.round(reconnectMs / 1000)} s…\n`,
      );
    }
  };
  const regained = () => {
    if (contact.announced)
      errOut.write(
        `reconnected to Temporal at ${conn.address} after ${Math.round((Date.now() - (contact.lostAt ?? Date.now())) / 1000)} s; following the run again.\n`,
      );
    contact.lostAt = undefined;
    contact.announced = false;
  };

  let client = conn.client;
  try {
    return await followLoop();
  } finally {
    // followRun owns the clients it follows with (the caller's first one included): none is left open.
    await client.connection.close().catch(() => undefined);
  }

  async function followLoop(): Promise<FollowOutcome<R>> {
    for (;;) {
      const handle = client.workflow.getHandle(target.workflowId, target.runId);
      try {
        const giveUp = () => contact.lostAt !== undefined && Date.now() - contact.lostAt >= reconnectMs;
        const result = await waitWithProgress<R>(handle, client, opts.pollMs ?? 1000, {
          print,
          lost,
          regained,
          keep: (p) => (progress = p),
          giveUp,
        });
        regained();
        const evidence = (result as { evidence?: Progress['evidence'] }).evidence;
        if (evidence && !opts.json) for (const e of evidence.slice(shown)) opts.out.write(`${renderEvidence(e)}\n`);
        return { kind: 'completed', ok: true, result };
      } catch (err) {
        if (err instanceof WorkflowFailedError) {
          regained();
          const last = await lastProgress(handle);
          if (last) print(last);
          return { kind: 'failed', ok: false, error: describeFailure(err), failureType: failureTypeOf(err), progress: last ?? progress };
        }
        if (isUndecodable(err)) {
          regained();
          return unreadable(client, target, err);
        }
        if (!isContactLoss(err)) throw err;
        lost(err);
        const lostFor = Date.now() - (contact.lostAt as number);
        if (lostFor >= reconnectMs) {
          return { kind: 'lost-contact', ok: false, error: reasonOf(err), lostForSeconds: Math.round(lostFor / 1000), progress };
        }
        await sleep(Math.min(2000, reconnectMs - lostFor));
        let next: Client | undefined;
        try {
          next = await conn.reconnect();
          await next.connection.workflowService.getSystemInfo({});
          const old = client;
          client = next;
          void old.connection.close().catch(() => undefined);
        } catch {
          // Still down: the next round tries again until the window ends.
          if (next && next !== client) void next.connection.close().catch(() => undefined);
        }
      }
    }
  }
}

interface ProgressHooks {
  print: (p: Progress) => void;
  lost: (err: unknown) => void;
  regained: () => void;
  keep: (p: Progress) => void;
  /** True once contact has been lost for the whole reconnect window: stop waiting (the SDK would retry on). */
  giveUp: () => boolean;
}

/** Thrown when the reconnect window ends while the result is still being waited for. */
class ContactWindowEnded extends Error {
  constructor(readonly last: unknown) {
    super(`no answer from Temporal: ${reasonOf(last)}`);
    this.name = 'TransportError';
  }
}

/**
 * The result, while the progress query is polled beside it. A query that fails is followed by a cheap ping: only
 * when that fails too is contact lost (a query can also fail because no worker is polling right now).
 */
async function waitWithProgress<R>(handle: WorkflowHandle, client: Client, pollMs: number, hooks: ProgressHooks): Promise<R> {
  const { print, lost, regained, keep, giveUp } = hooks;
  let lastLoss: unknown;
  let settled = false;
  const done = handle.result().finally(() => {
    settled = true;
  }) as Promise<R>;
  done.catch(() => undefined);
  while (!settled) {
    try {
      const p = await withTimeout(handle.query(progressQuery), Math.max(pollMs * 3, 3000));
      regained();
      keep(p);
      print(p);
    } catch {
      try {
        await withTimeout(client.connection.workflowService.getSystemInfo({}), 3000);
      } catch (err) {
        if (isContactLoss(err) || (err as Error).message.startsWith('timeout')) {
          lastLoss = err;
          lost(err);
        }
      }
    }
    if (!settled && giveUp()) throw new ContactWindowEnded(lastLoss);
    await Promise.race([done.catch(() => undefined), sleep(pollMs)]);
  }
  return done;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout: no answer within ${ms / 1000} s`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last progress of a failed run, if a worker still answers (it may not: the failure is what matters). */
async function lastProgress(handle: WorkflowHandle): Promise<Progress | undefined> {
  try {
    return await withTimeout(handle.query(progressQuery), 5000);
  } catch {
    return undefined;
  }
}

/** A result or failure this process cannot decrypt: its status and failure type are plain text, and are enough. */
async function unreadable(client: Client, target: { workflowId: string; runId?: string }, err: unknown): Promise<FollowOutcome<never>> {
  const close = await readCloseEvent(client, target).catch(() => undefined);
  const status = close?.status ?? 'ENDED';
  const what = close?.keyId ? `it is encrypted with key "${close.keyId}", which this command cannot use` : reasonOf(err);
  const failure = close?.failureType ? ` (failure type ${close.failureType})` : '';
  return {
    kind: 'unreadable',
    ok: false,
    status,
    ...(close?.failureType && { failureType: close.failureType }),
    error:
      `the run ${status.toLowerCase()}${failure}, but its ${status === 'COMPLETED' ? 'result' : 'failure'} cannot be read here: ${what}. ` +
      'Give this command the key file the worker uses (--codec-keys-file or PULSE_RUNBOOKS_CODEC_KEYS_FILE) to see it.',
  };
}

function failureTypeOf(err: WorkflowFailedError): string | undefined {
  const cause = err.cause as { type?: string; cause?: { type?: string } } | undefined;
  return cause?.cause?.type ?? cause?.type;
}

export function describeFailure(err: unknown): string {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause as { message?: string; type?: string; cause?: { message?: string; type?: string } } | undefined;
    const inner = cause?.cause ?? cause;
    const type = (inner as { type?: string })?.type ?? (cause as { type?: string })?.type;
    return `${type ? `${type}: ` : ''}${inner?.message ?? cause?.message ?? err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function uiLink(uiUrl: string | undefined, namespace: string, workflowId: string, runId?: string): string | undefined {
  if (!uiUrl) return undefined;
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}

export type { Client };
