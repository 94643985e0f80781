/**
 * The one way this program connects a Temporal client (the CLI's commands, the start demo, the rehearsal): as a
 * person. Its Temporal identity is `pulse-runbook:<actor>@<host>`, which the server writes into every history event
 * the client causes, and every start, update and signal carries the actor header (src/identity/header.ts) that
 * `pulse-runbook audit` reads, so no run this program starts is without an actor.
 */
import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { actorHeaderInterceptor } from './identity/header.js';
import { clientIdentity, type Identity } from './identity/resolve.js';

export interface ClientOptions {
  address: string;
  namespace: string;
  /** Who acts through this client (src/identity/resolve.ts). */
  identity: Identity;
  /** The encrypted data converter (src/temporal/data-converter.ts) when a codec key file is configured. */
  dataConverter?: DataConverter;
  /**
   * false: a connection without the SDK's call retries, for a follower whose own loop retries (followRun), since
   * the SDK's retries of a call still running when its connection is closed throw from a timer.
   */
  retries?: boolean;
}

export async function connectClient(opts: ClientOptions): Promise<Client> {
  // A short connect timeout: a person waiting on a wrong address should hear about it quickly.
  const connection = await Connection.connect({
    address: opts.address,
    connectTimeout: '4s',
    ...(opts.retries === false ? { interceptors: [] } : {}),
  });
  return clientOnConnection({ ...opts, connection });
}

export interface ClientOnConnectionOptions extends Pick<ClientOptions, 'namespace' | 'identity' | 'dataConverter'> {
  /** A connection the caller already holds (another client's, e.g. to add a data converter); the caller closes it. */
  connection: ConnectionLike;
}

/**
 * The same client as connectClient's, acting as the same person, on a connection the caller already holds: for a
 * second client with another data converter on one connection (the doctor's run, the preflight). Never
 * `new Client(...)` elsewhere for a run or a signal, or it carries no actor.
 */
export function clientOnConnection(opts: ClientOnConnectionOptions): Client {
  return new Client({
    connection: opts.connection,
    namespace: opts.namespace,
    identity: clientIdentity(opts.identity),
    interceptors: { workflow: [actorHeaderInterceptor(opts.identity)] },
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
  });
}
