import { ApplicationFailure } from '@temporalio/common';
import {
  CommandPrefixSchema,
  DEFAULT_CONTAINER_RECREATE,
  FlagTargetSchema,
  HostActionsSchema,
  hostConfigWarnings,
  LogSourceSchema,
  parseHostInput,
  RestartSchema,
} from '../../src/config/host.js';

function invalid(fn: () => unknown): ApplicationFailure {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidHostConfig');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    return err as ApplicationFailure;
  }
  throw new Error('expected InvalidHostConfig');
}

describe('host config schemas', () => {
  it('fills the deployment defaults from pulse-api.md §5', () => {
    expect(HostActionsSchema.parse({})).toEqual({
      flag: { kind: 'env-file', path: '/etc/pulse/.env' },
      restart: { kind: 'systemd', unit: 'pulse', healthTimeoutMs: 60_000, healthIntervalMs: 1_000, commandTimeoutMs: 180_000 },
      prefix: [],
      logs: { kind: 'journald', unit: 'pulse' },
    });
    expect(RestartSchema.parse({ kind: 'container' })).toMatchObject({ argv: DEFAULT_CONTAINER_RECREATE });
    expect(FlagTargetSchema.parse({ kind: 'systemd-dropin' })).toEqual({
      kind: 'systemd-dropin',
      path: '/etc/systemd/system/pulse.service.d/truenas.conf',
      shadowingEnvFiles: ['/etc/pulse/.env'],
    });
  });

  it('refuses a plain container restart, which keeps the old environment', () => {
    for (const argv of [
      ['docker', 'restart', 'pulse'],
      ['docker', 'compose', 'restart'],
      ['podman', 'restart', 'pulse'],
    ]) {
      const f = invalid(() => parseHostInput(RestartSchema, { kind: 'container', argv }, 'restart'));
      expect(f.message).toContain('restart.argv: a plain container restart keeps the environment');
    }
    expect(RestartSchema.parse({ kind: 'container', argv: ['podman', 'compose', 'up', '-d', '--force-recreate'] }).kind).toBe('container');
  });

  it('names the field and the fix for a string-joined argv or prefix', () => {
    expect(invalid(() => parseHostInput(CommandPrefixSchema, ['sudo -n'], 'prefix')).message).toMatch(
      /^Invalid host configuration: prefix: .*\["sudo","-n"\]/,
    );
    expect(invalid(() => parseHostInput(RestartSchema, { kind: 'command', argv: ['docker compose', 'up'] }, 'restart')).message).toContain(
      'restart.argv: the program (argv[0]) contains whitespace',
    );
  });

  it('checks paths, unit names and drop-in file names', () => {
    expect(invalid(() => parseHostInput(FlagTargetSchema, { kind: 'env-file', path: 'etc/pulse/.env' }, 'target')).message).toContain(
      'target.path: must be an absolute path',
    );
    expect(
      invalid(() => parseHostInput(FlagTargetSchema, { kind: 'systemd-dropin', path: '/etc/systemd/system/pulse.service.d/x' }, 'target'))
        .message,
    ).toContain('must end in .conf');
    expect(invalid(() => parseHostInput(RestartSchema, { kind: 'systemd', unit: '--now' }, 'restart')).message).toContain('restart.unit');
    expect(invalid(() => parseHostInput(LogSourceSchema, { kind: 'syslog' }, 'logs')).message).toContain('logs.kind');
    expect(invalid(() => parseHostInput(FlagTargetSchema, { kind: 'env-file', extra: 1 }, 'target')).message).toContain('target');
  });

  it('warns about combinations that usually do not apply the flag', () => {
    const w = hostConfigWarnings(
      FlagTargetSchema.parse({ kind: 'container-env', path: '/srv/pulse/pulse.env' }),
      RestartSchema.parse({ kind: 'systemd' }),
    );
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('re-create');
    expect(hostConfigWarnings(FlagTargetSchema.parse({ kind: 'env-file' }), RestartSchema.parse({ kind: 'systemd' }))).toEqual([]);
  });
});
