/** The real time-skipping test server (Java, from Maven Central), started by the SDK from our cached binary. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import { quietRuntime } from '../../src/temporal/quiet-runtime.js';
import { testServerPath } from '../../src/temporal/tools.js';
import { workflowsPath } from '../../src/temporal/workflows-path.js';
import { cachedWorkflowBundle } from './bundle-cache.js';

export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const path = await testServerPath();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // The test server knows no custom search attributes until they are registered, like a real cluster.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((a) => [a.name, proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return env;
}

/** The workflows' bundle, built once per source tree (bench/support/bundle-cache.ts), instead of once per worker. */
export function workflowBundle(): Promise<{ code: string }> {
  return cachedWorkflowBundle({ workflowsPath: workflowsPath() });
}

let counter = 0;
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
