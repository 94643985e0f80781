/** PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS: the worker's cache of runs, read from the environment (src/worker.ts). */
import { cacheSettings } from '../../src/worker.js';

it('is the SDK default when unset, a whole number when set, and refused otherwise with the variable named', () => {
  expect(cacheSettings({})).toEqual({});
  expect(cacheSettings({ PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS: ' ' })).toEqual({});
  expect(cacheSettings({ PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS: '150' })).toEqual({ maxCachedWorkflows: 150 });
  expect(cacheSettings({ PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS: '0' })).toEqual({ maxCachedWorkflows: 0 });
  for (const bad of ['-1', '1.5', 'lots']) {
    expect(() => cacheSettings({ PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS: bad })).toThrow(
      `PULSE_RUNBOOKS_MAX_CACHED_WORKFLOWS must be a whole number of workflow runs (0 turns the cache off), got "${bad}"`,
    );
  }
});
