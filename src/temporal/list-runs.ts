/**
 * Lists runs through the visibility API without letting one unreadable memo stop the listing. The SDK's
 * `client.workflow.list()` decodes every memo as it goes, so a single run encrypted with a key this machine does
 * not hold (an older key that was dropped, another deployment's key) makes the whole `list`, `audit` or report fail.
 * Here the raw page is read, the search attributes (never encrypted) are parsed directly, and the memo is decoded
 * per run: a run whose memo cannot be decoded is still listed, with `memoError` saying why.
 */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';

export interface ListedRun {
  workflowId: string;
  runId: string;
  type: string;
  startTime: Date;
  /** RUNNING, COMPLETED, FAILED, ... */
  status: string;
  /** Keyword search attributes, first value each (what our runs set). */
  searchAttributes: Record<string, string>;
  memo: Record<string, unknown>;
  memoError?: string;
}

const STATUS = ['UNSPECIFIED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT'];

function keyword(payload: Payload): string {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8'));
    return Array.isArray(value) ? String(value[0] ?? '') : String(value ?? '');
  } catch {
    return '';
  }
}

function seconds(t: { seconds?: unknown; nanos?: number | null } | null | undefined): Date {
  const s = t?.seconds;
  const n = typeof s === 'object' && s !== null ? (s as { toNumber(): number }).toNumber() : Number(s ?? 0);
  return new Date(n * 1000 + Math.floor((t?.nanos ?? 0) / 1e6));
}

export async function* listRuns(client: Client, query: string): AsyncGenerator<ListedRun> {
  const converter = client.options.loadedDataConverter;
  const decodeMemo = async (fields: Record<string, Payload>): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    for (const [key, payload] of Object.entries(fields)) {
      let decoded = [payload];
      for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
      out[key] = converter.payloadConverter.fromPayload(decoded[0]);
    }
    return out;
  };
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, nextPageToken });
    for (const e of page.executions ?? []) {
      const indexed = (e.searchAttributes?.indexedFields ?? {}) as Record<string, Payload>;
      const run: ListedRun = {
        workflowId: e.execution?.workflowId ?? '',
        runId: e.execution?.runId ?? '',
        type: e.type?.name ?? '',
        startTime: seconds(e.startTime as never),
        status: STATUS[e.status ?? 0] ?? 'UNSPECIFIED',
        searchAttributes: Object.fromEntries(Object.entries(indexed).map(([k, p]) => [k, keyword(p)])),
        memo: {},
      };
      try {
        run.memo = await decodeMemo((e.memo?.fields ?? {}) as Record<string, Payload>);
      } catch (err) {
        run.memoError = (err as Error).message;
      }
      yield run;
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}
