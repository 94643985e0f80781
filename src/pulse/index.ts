/** The Pulse client's public surface: import from here rather than from the individual modules. */
export * from './errors.js';
export * from './types.js';
export * from './token.js';
export * from './client.js';
export * from './staleness.js';
export * from './plan.js';
export * from './capabilities.js';
export { PULSE_PATHS, RESOURCES_PAGE_LIMIT, type ResourcesPath } from './paths.js';
export { prepareNewConnection, prepareOverrides, type PreparedBody } from './input.js';
export type { HttpMethod, PulseAnswer } from './transport.js';
