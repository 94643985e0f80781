// Every activity the worker registers, grouped by what it touches.
export * from './pulse.js';
