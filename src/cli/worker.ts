/** `pulse-runbook worker`: only the worker, against TEMPORAL_ADDRESS (production, compose). */
import { Command } from 'commander';
import { createWorker } from '../worker.js';
import { addGlobalFlags, EMBEDDED_ADDRESS, loadSettings } from './context.js';

export function workerCommand(): Command {
  const cmd = new Command('worker').description('Run the worker against an existing Temporal server (TEMPORAL_ADDRESS)');
  addGlobalFlags(cmd).action(async (flags) => {
    const settings = loadSettings(flags);
    const address = settings.temporal.address ?? EMBEDDED_ADDRESS;
    const { worker, connection } = await createWorker({ ...settings.temporal, address });
    process.stdout.write(`Worker on ${address}, task queue "${settings.temporal.taskQueue}"\n`);
    process.once('SIGINT', () => worker.shutdown());
    process.once('SIGTERM', () => worker.shutdown());
    await worker.run();
    await connection.close();
  });
  return cmd;
}
