// The workflow bundle's entry: every procedure the worker runs.
export { killSwitch } from './kill-switch.js';
export { enable } from './enable.js';
export { disable } from './disable.js';
export { codeRollback } from './code-rollback.js';
export { dataCleanup } from './data-cleanup.js';
export { incident } from './incident.js';
export { alertMonitor } from './alert-monitor.js';
export { canaryRollout } from './canary-rollout.js';
export { doctor } from './doctor.js';
