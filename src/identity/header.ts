/**
 * The actor travels with every workflow start, update and signal the CLI sends, as a Temporal header
 * (`pulse-runbook-actor`): the server stores headers in history next to the request (WorkflowExecutionStarted,
 * WorkflowExecutionUpdateAccepted, WorkflowExecutionSignaled), so `pulse-runbook audit` reads who acted and how that
 * was determined from history itself, for every workflow type, without each payload having to carry it.
 *
 * The header is plain JSON (headers do not go through the payload codec): it holds the actor's name, the source and
 * the token's id and expiry, never the token. Like everything a client sends, it is a claim of that client; see
 * docs/identity.md for what binds it.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { Identity } from './resolve.js';
import { ACTOR_SOURCES, type ActorSource } from './sources.js';

export const ACTOR_HEADER = 'pulse-runbook-actor';

export interface ActorHeader {
  actor: string;
  actorSource: ActorSource;
  /** The verified token's `jti` and expiry (source `token`). */
  tokenId?: string;
  tokenExpiresAt?: string;
  tokenIssuer?: string;
}

export function actorHeaderOf(identity: Identity): ActorHeader {
  return {
    actor: identity.actor,
    actorSource: identity.source,
    ...(identity.token?.id && { tokenId: identity.token.id }),
    ...(identity.token && { tokenExpiresAt: identity.token.expiresAt }),
    ...(identity.token?.issuer && { tokenIssuer: identity.token.issuer }),
  };
}

/** Adds the actor header to starts, updates and signals (the calls that write the request into history). */
export function actorHeaderInterceptor(identity: Identity): WorkflowClientInterceptor {
  const payload = defaultPayloadConverter.toPayload(actorHeaderOf(identity));
  const withActor = <H extends Record<string, Payload>>(headers: H): H => ({ ...headers, [ACTOR_HEADER]: payload });
  return {
    startWithDetails: (input, next) => next({ ...input, headers: withActor(input.headers) }),
    startUpdate: (input, next) => next({ ...input, headers: withActor(input.headers) }),
    startUpdateWithStart: (input, next) =>
      next({ ...input, workflowStartHeaders: withActor(input.workflowStartHeaders), updateHeaders: withActor(input.updateHeaders) }),
    signal: (input, next) => next({ ...input, headers: withActor(input.headers) }),
    signalWithStart: (input, next) => next({ ...input, headers: withActor(input.headers) }),
  };
}

/** The actor header of a history event's header fields, or undefined when absent or not ours. */
export function readActorHeader(fields: Record<string, Payload> | null | undefined): ActorHeader | undefined {
  const payload = fields?.[ACTOR_HEADER];
  if (!payload) return undefined;
  try {
    const value = defaultPayloadConverter.fromPayload<Partial<ActorHeader>>(payload);
    if (typeof value?.actor !== 'string' || !ACTOR_SOURCES.includes(value.actorSource as ActorSource)) return undefined;
    return value as ActorHeader;
  } catch {
    return undefined;
  }
}
