// The workflow bundle's entry: every procedure the worker runs.
export { killSwitch } from './kill-switch.js';
