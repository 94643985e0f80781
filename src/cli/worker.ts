/** `pulse-runbook worker`: only the worker, against TEMPORAL_ADDRESS (production, compose). */
import { Command } from 'commander';
import { addGlobalFlags, EMBEDDED_ADDRESS, loadSettings, loadSettingsCodec } from './context.js';
import { CODEC_KEYS_FILE_ENV } from '../config/codec.js';

export function workerCommand(): Command {
  const cmd = new Command('worker').description('Run the worker against an existing Temporal server (TEMPORAL_ADDRESS)');
  addGlobalFlags(cmd).action(async (flags) => {
    const settings = loadSettings(flags);
    const address = settings.temporal.address ?? EMBEDDED_ADDRESS;
    const codec = loadSettingsCodec(settings);
    // Imported here, not at the top: `worker --help` must not load the SDK's worker and its native core.
    const { createWorker } = await import('../worker.js');
    const { worker, connection } = await createWorker({ ...settings.temporal, address }, {}, { codec: codec?.codec, ring: codec?.ring });
    process.stdout.write(`Worker on ${address}, task queue "${settings.temporal.taskQueue}"\n`);
    process.stdout.write(
      codec
        ? `Payload encryption on: key file ${codec.keysFile}, current key id "${codec.codec.currentKeyId}"\n`
        : `Payload encryption off: history is stored in plain text (give --codec-keys-file or ${CODEC_KEYS_FILE_ENV})\n`,
    );
    process.once('SIGINT', () => worker.shutdown());
    process.once('SIGTERM', () => worker.shutdown());
    await worker.run();
    await connection.close();
  });
  return cmd;
}
