/** `pulse-runbook emulator`: a Pulse emulator for rehearsing the runbook (not a real Pulse). */
import { Command } from 'commander';
import { ConfigError } from '../config/load.js';

export function emulatorCommand(): Command {
  return new Command('emulator')
    .description('Start the Pulse emulator (TrueNAS endpoints, poller, metrics) to rehearse the runbook')
    .option('--profile <feb|v6>', 'which Pulse line to behave like', 'feb')
    .option('--port <n>', 'API port (Pulse: 7655)', Number, 7655)
    .option('--metrics-port <n>', 'metrics port (Pulse: 9091)', Number, 9091)
    .option('--data-dir <dir>', 'data dir with truenas.enc and .encryption.key (default: a temp dir)')
    .option('--flag <value>', 'PULSE_ENABLE_TRUENAS as the process reads it at start', 'true')
    .option('--tick-seconds <n>', 'poller interval', Number, 60)
    .option('--stale-seconds <n>', 'staleness threshold', Number, 120)
    .option('--demo-truenas', 'also start a fake TrueNAS to point connections at')
    .action(async (flags) => {
      if (!['feb', 'v6'].includes(flags.profile)) throw new ConfigError(`emulator --profile: must be feb or v6, not ${flags.profile}`);
      // Checked here, before a process is started: the emulator's own check names its env vars, not these flags.
      for (const [flag, value, min] of [
        ['--port', flags.port, 0],
        ['--metrics-port', flags.metricsPort, 0],
      ] as const) {
        if (!Number.isInteger(value) || value < min || value > 65535)
          throw new ConfigError(`emulator ${flag}: must be a TCP port number from 0 to 65535 (0 picks a free port), e.g. ${flag} 7655`);
      }
      for (const [flag, value] of [
        ['--tick-seconds', flags.tickSeconds],
        ['--stale-seconds', flags.staleSeconds],
      ] as const) {
        if (!Number.isFinite(value) || value <= 0)
          throw new ConfigError(`emulator ${flag}: must be a number of seconds greater than 0, e.g. ${flag} 60`);
      }
      const { spawnEmulator } = await import('../emulator/process.js');
      const emu = await spawnEmulator({
        profile: flags.profile,
        port: flags.port,
        metricsPort: flags.metricsPort,
        dataDir: flags.dataDir,
        enableTrueNAS: flags.flag,
        tickSeconds: flags.tickSeconds,
        staleSeconds: flags.staleSeconds,
        env: flags.demoTruenas ? { PULSE_EMULATOR_DEMO_TRUENAS: '1' } : {},
      });
      process.stdout.write(
        `Pulse EMULATOR (${flags.profile}) at ${emu.url}, metrics ${emu.metricsUrl}, data dir ${emu.dataDir}` +
          `${emu.truenasUrl ? `, fake TrueNAS ${emu.truenasUrl}` : ''}\nCtrl-C to stop.\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emu.stop();
    });
}
