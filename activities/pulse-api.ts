/**
 * Every Pulse activity, connections and resources together: what a procedure's Pulse proxy offers. Workflows import
 * it as a type only (`log.activities<typeof pulseActivities>`); the worker registers activities/index.ts.
 */
export * from './pulse-connections.js';
export * from './pulse-resources.js';
