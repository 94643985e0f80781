/**
 * Starts a procedure and follows it: prints each new piece of evidence as the workflow records it (through the
 * `progress` query) and what it is waiting for, then the result or a clear failure.
 */
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../../workflows/support/evidence-log.js';
import { renderEvidence } from './render.js';

export interface FollowOptions {
  json: boolean;
  out: NodeJS.WritableStream;
  pollMs?: number;
}

export async function followRun<R>(handle: WorkflowHandle, opts: FollowOptions): Promise<{ ok: true; result: R } | { ok: false; error: string; progress?: Progress }> {
  let shown = 0;
  let lastWaiting = '';
  const print = (p: Progress) => {
    if (opts.json) return;
    for (const e of p.evidence.slice(shown)) opts.out.write(`${renderEvidence(e)}\n`);
    shown = p.evidence.length;
    const waiting = p.current?.waitingFor ? `… waiting for ${p.current.waitingFor} [${p.current.step}]` : '';
    if (waiting && waiting !== lastWaiting) opts.out.write(`${waiting}\n`);
    lastWaiting = waiting;
  };
  const done = handle.result().then(
    (result: R) => ({ ok: true as const, result }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  let settled: Awaited<typeof done> | undefined;
  void done.then((s) => (settled = s));
  let progress: Progress | undefined;
  while (!settled) {
    try {
      progress = await handle.query<Progress>('progress');
      print(progress);
    } catch {
      // The first workflow task may not have run yet; the next poll will see it.
    }
    await Promise.race([done, new Promise((r) => setTimeout(r, opts.pollMs ?? 1000))]);
  }
  if (settled.ok) {
    const evidence = (settled.result as { evidence?: Progress['evidence'] }).evidence;
    if (evidence && !opts.json) for (const e of evidence.slice(shown)) opts.out.write(`${renderEvidence(e)}\n`);
    return { ok: true, result: settled.result };
  }
  try {
    progress = await handle.query<Progress>('progress');
    print(progress);
  } catch {
    // A failed run may have no worker to answer; the failure below is what matters.
  }
  return { ok: false, error: describeFailure(settled.err), progress };
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
