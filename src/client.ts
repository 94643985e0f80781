/** The Temporal client used by the CLI: one connection, the configured namespace, and the data converter. */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

export interface ClientOptions {
  /** The encrypted data converter (src/temporal/data-converter.ts) when a codec key file is configured. */
  dataConverter?: DataConverter;
}

export async function connectClient(address: string, namespace: string, opts: ClientOptions = {}): Promise<Client> {
  // A short connect timeout: a person waiting on a wrong address should hear about it quickly.
  const connection = await Connection.connect({ address, connectTimeout: '4s' });
  return new Client({ connection, namespace, ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}) });
}
