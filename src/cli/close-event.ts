/**
 * How a run ended, read from its close event without decoding any payload: the status, the failure type (plain
 * text, never encrypted) and the key id a payload names in its metadata (also plain). Enough to tell a person the
 * real outcome of a run whose result this process cannot decrypt.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const EventType = proto.temporal.api.enums.v1.EventType;

export interface CloseEvent {
  status: 'COMPLETED' | 'FAILED' | 'CANCELED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW' | 'RUNNING';
  failureType?: string;
  /** The encryption key id named by the result or failure payload, when it is encrypted. */
  keyId?: string;
}

function keyIdIn(payload: { metadata?: Record<string, Uint8Array> | null } | null | undefined): string | undefined {
  const raw = payload?.metadata?.['encryption-key-id'];
  return raw ? Buffer.from(raw).toString('utf8') : undefined;
}

export async function readCloseEvent(client: Client, target: { workflowId: string; runId?: string }): Promise<CloseEvent> {
  const res = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: target.workflowId, runId: target.runId },
    historyEventFilterType: proto.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  });
  const event = res.history?.events?.[0];
  switch (event?.eventType) {
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      return { status: 'COMPLETED', keyId: keyIdIn(event.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]) };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: {
      const failure = event.workflowExecutionFailedEventAttributes?.failure;
      return {
        status: 'FAILED',
        failureType: failure?.applicationFailureInfo?.type ?? failure?.cause?.applicationFailureInfo?.type ?? undefined,
        keyId: keyIdIn(failure?.encodedAttributes),
      };
    }
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      return { status: 'CANCELED' };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      return { status: 'TERMINATED' };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
      return { status: 'TIMED_OUT' };
    case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      return { status: 'CONTINUED_AS_NEW' };
    default:
      return { status: 'RUNNING' };
  }
}
