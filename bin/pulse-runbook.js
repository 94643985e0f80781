#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so no build step is needed before the first run.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
