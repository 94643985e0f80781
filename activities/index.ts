// Every activity the worker registers, grouped by what it touches.
export * from './pulse-connections.js';
export * from './pulse-resources.js';
export * from './feature-flag.js';
export * from './restart.js';
export * from './logs.js';
export * from './git.js';
export * from './data-files.js';
export * from './prometheus.js';
export * from './notify.js';
export * from './incident-notify.js';
export * from './doctor.js';
