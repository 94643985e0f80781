/** The Temporal client used by the CLI: one connection, the configured namespace. */
import { Client, Connection } from '@temporalio/client';

export async function connectClient(address: string, namespace: string): Promise<Client> {
  // A short connect timeout: a person waiting on a wrong address should hear about it quickly.
  const connection = await Connection.connect({ address, connectTimeout: '4s' });
  return new Client({ connection, namespace });
}
