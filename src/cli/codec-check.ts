/**
 * Before a run is started: can the workers on its task queue read what this command writes, and can this command
 * read what they write back? Each pulse-runbooks worker advertises its key ids and check values in its identity
 * (src/temporal/codec-advert.ts); DescribeTaskQueue lists the identities of the workers that polled recently.
 *
 * A mismatch refuses the start with the fix (exit 2), before anything is written to Temporal. Workers that do not
 * advertise (older builds, test harnesses) and a queue nobody polls cannot be checked: then the run starts, and a
 * worker that cannot decrypt it fails it at once (src/temporal/decode-guard.ts) instead of retrying forever.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { ConfigError } from '../config/load.js';
import { advertOf, codecMismatch, parseAdvert } from '../temporal/codec-advert.js';
import type { LoadedCodec } from '../temporal/data-converter.js';
import { loadSettingsCodec, type Settings } from './context.js';

/** A poller seen longer ago than this is taken for a stopped worker (a live one polls at least every ~70 s). */
const RECENT_MS = 2 * 60_000;

function millis(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  const s = t?.seconds;
  const n = typeof s === 'object' && s !== null ? (s as { toNumber(): number }).toNumber() : Number(s ?? 0);
  return n * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

export interface WorkerCheck {
  /** Identities of recent pollers that advertise their keys, and whether each one matches. */
  checked: Array<{ identity: string; problem?: string }>;
  /** Recent pollers that do not advertise (cannot be checked). */
  unknown: string[];
}

export async function checkWorkersCanRead(
  client: Client,
  namespace: string,
  taskQueue: string,
  codec: LoadedCodec | undefined,
  now = Date.now(),
): Promise<WorkerCheck> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const mine = advertOf(codec?.ring);
  const out: WorkerCheck = { checked: [], unknown: [] };
  for (const poller of res.pollers ?? []) {
    const identity = poller.identity ?? '';
    const seen = millis(poller.lastAccessTime as never);
    if (seen && now - seen > RECENT_MS) continue;
    const theirs = parseAdvert(identity);
    if (!theirs) {
      out.unknown.push(identity);
      continue;
    }
    out.checked.push({ identity, problem: codecMismatch(mine, theirs, codec?.keysFile) });
  }
  return out;
}

/** Throws a ConfigError (exit 2, nothing started) when a recent worker on the queue could not work with this command. */
export async function assertWorkersCanRead(
  client: Client,
  namespace: string,
  taskQueue: string,
  codec: LoadedCodec | undefined,
): Promise<void> {
  const check = await checkWorkersCanRead(client, namespace, taskQueue, codec);
  const bad = check.checked.filter((c) => c.problem);
  if (bad.length === 0) return;
  const first = bad[0];
  throw new ConfigError(
    `payload encryption does not match the worker on task queue "${taskQueue}" (${first.identity.split(' ')[0]}): ${first.problem}. Nothing was started.` +
      (bad.length > 1 ? ` (${bad.length} workers disagree.)` : ''),
  );
}

/** The same check for a command that only has its settings at hand (incident open, canary start, alerts start). */
export async function assertWorkersCanReadFor(client: Client, settings: Settings): Promise<void> {
  // The key file was read (and any warning printed) when the client was made; read it again quietly.
  const codec = loadSettingsCodec(settings, () => true);
  await assertWorkersCanRead(client, settings.temporal.namespace, settings.temporal.taskQueue, codec);
}
