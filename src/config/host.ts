/**
 * How one deployment applies the TrueNAS feature flag, restarts Pulse, and where its logs are read
 * (runbook §1 and §2; pulse-api.md §5). The same schemas check CLI flags, the config file and the
 * workflow inputs, so an error names the same field everywhere.
 *
 * This module is imported by workflows too: it must stay free of Node built-ins (no node:path, no fs).
 */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';

/** The one variable this project ever writes. Pulse reads it once, at process start (pulse-api.md §5). */
export const FLAG_NAME = 'PULSE_ENABLE_TRUENAS';

const AbsolutePath = z
  .string()
  .min(1, 'must be a file path')
  .refine((p) => p.startsWith('/'), 'must be an absolute path such as /etc/pulse/.env')
  .refine((p) => !p.includes('\0'), 'must not contain a NUL byte');

/** One argv element. Empty strings are almost always a templating mistake. */
const ArgvElement = z.string().min(1, 'an argv element must not be empty');

/**
 * An argument vector, run without a shell. A first element with a space is the classic mistake of
 * writing a command line as one string ("docker compose"), which would look for a program of that name.
 */
const Argv = z
  .array(ArgvElement)
  .min(1, 'must name at least the program, e.g. ["systemctl","restart","pulse"]')
  .refine((argv) => !/\s/.test(argv[0] ?? ''), {
    error:
      'the program (argv[0]) contains whitespace: give each argument as its own element, e.g. ["docker","compose"] instead of ["docker compose"]',
  });

const HttpUrl = z
  .url('must be a URL such as http://127.0.0.1:7655/api/health')
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://');

/** A systemd unit name; a leading dash would be read by systemctl as an option. */
const UnitName = z.string().regex(/^[A-Za-z0-9_@:.\\][A-Za-z0-9_@:.\\-]*$/, 'must be a systemd unit name such as pulse or pulse.service');

// ---------------------------------------------------------------------------------------------
// Where the flag is written
// ---------------------------------------------------------------------------------------------

export const FlagTargetSchema = z.discriminatedUnion('kind', [
  /**
   * The file named by the unit's `EnvironmentFile=` (install.sh: `EnvironmentFile=-/etc/pulse/.env`).
   * systemd reads it at every (re)start, so a restart is enough.
   */
  z
    .object({
      kind: z.literal('env-file'),
      path: AbsolutePath.default('/etc/pulse/.env'),
    })
    .strict(),
  /**
   * A systemd drop-in holding `[Service]\nEnvironment=PULSE_ENABLE_TRUENAS=...`. systemd caches unit files,
   * so `systemctl daemon-reload` must run before the restart or the old value stays.
   * `EnvironmentFile=` wins over `Environment=` in systemd, so the env files listed in `shadowingEnvFiles`
   * are read (never written) to catch a value there that would silently override the drop-in.
   */
  z
    .object({
      kind: z.literal('systemd-dropin'),
      path: AbsolutePath.default('/etc/systemd/system/pulse.service.d/truenas.conf').refine(
        (p) => p.endsWith('.conf'),
        'must end in .conf: systemd reads only *.conf files in a drop-in directory',
      ),
      shadowingEnvFiles: z.array(AbsolutePath).default(['/etc/pulse/.env']),
    })
    .strict(),
  /**
   * An env file used by compose (`env_file:`) or `docker run --env-file`. A container's environment is
   * fixed when it is created, so the restart must re-create the container.
   */
  z
    .object({
      kind: z.literal('container-env'),
      path: AbsolutePath,
    })
    .strict(),
]);

export type FlagTarget = z.infer<typeof FlagTargetSchema>;
export type FlagTargetInput = z.input<typeof FlagTargetSchema>;

// ---------------------------------------------------------------------------------------------
// How Pulse is restarted and how we know it is back
// ---------------------------------------------------------------------------------------------

const RestartCommon = {
  /** Defaults to `<pulse url>/api/health` (public in every Pulse version, pulse-api.md §1). */
  healthUrl: HttpUrl.optional(),
  healthTimeoutMs: z.number().int().positive().max(3_600_000).default(60_000),
  healthIntervalMs: z.number().int().positive().max(60_000).default(1_000),
  /** A systemd stop may wait up to TimeoutStopSec (90 s by default) before the start even begins. */
  commandTimeoutMs: z.number().int().positive().max(3_600_000).default(180_000),
};

/**
 * Commands that restart a container *without* re-creating it. A container's environment is fixed when
 * the container is created: `docker restart` (and `docker compose restart`) stop and start the same
 * container with its old environment, so a changed env file would silently not apply (pulse-api.md §5).
 */
function isPlainContainerRestart(argv: string[]): boolean {
  const [tool, a1, a2] = argv;
  if (tool !== 'docker' && tool !== 'podman' && tool !== 'docker-compose' && tool !== 'podman-compose') return false;
  if (tool.endsWith('-compose')) return a1 === 'restart';
  return a1 === 'restart' || (a1 === 'compose' && a2 === 'restart') || (a1 === 'container' && a2 === 'restart');
}

export const DEFAULT_CONTAINER_RECREATE = ['docker', 'compose', 'up', '-d', '--force-recreate', 'pulse'];

export const RestartSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('systemd'),
      unit: UnitName.default('pulse'),
      ...RestartCommon,
    })
    .strict(),
  z
    .object({
      kind: z.literal('container'),
      /**
       * Re-create, not restart: see isPlainContainerRestart. `up -d --force-recreate` builds a new
       * container from the compose file and so reads the env file again.
       */
      argv: Argv.default([...DEFAULT_CONTAINER_RECREATE]).refine((a) => !isPlainContainerRestart(a), {
        error:
          'a plain container restart keeps the environment the container was created with; use a re-create such as ["docker","compose","up","-d","--force-recreate","pulse"]',
      }),
      ...RestartCommon,
    })
    .strict(),
  z
    .object({
      kind: z.literal('command'),
      argv: Argv,
      ...RestartCommon,
    })
    .strict(),
]);

export type RestartConfig = z.infer<typeof RestartSchema>;
export type RestartInput = z.input<typeof RestartSchema>;

// ---------------------------------------------------------------------------------------------
// How host commands are reached
// ---------------------------------------------------------------------------------------------

/**
 * Put in front of every host command, e.g. ["sudo","-n"] or ["ssh","-o","BatchMode=yes","pulse-host"].
 * An argv prefix, never a string: nothing is ever joined and handed to a shell.
 * Files (env file, drop-in, log file) are always read and written on the worker's own filesystem.
 */
export const CommandPrefixSchema = z
  .array(ArgvElement)
  .default([])
  .refine((p) => p.length === 0 || !/\s/.test(p[0] ?? ''), {
    error: 'the prefix program contains whitespace: give each argument as its own element, e.g. ["sudo","-n"]',
  });

export type CommandPrefix = z.infer<typeof CommandPrefixSchema>;

// ---------------------------------------------------------------------------------------------
// Where Pulse's logs are read
// ---------------------------------------------------------------------------------------------

export const LogSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('journald'), unit: UnitName.default('pulse') }).strict(),
  /** A plain file has no timestamps: reads start at the byte offset recorded before the restart. */
  z.object({ kind: z.literal('file'), path: AbsolutePath }).strict(),
  /**
   * Any command that prints the logs, e.g. ["docker","logs","--since","{since}","pulse"]. The element
   * "{since}" is replaced by the ISO time of the mark; both stdout and stderr are read (Pulse logs to stderr).
   */
  z.object({ kind: z.literal('command'), argv: Argv }).strict(),
]);

export type LogSource = z.infer<typeof LogSourceSchema>;
export type LogSourceInput = z.input<typeof LogSourceSchema>;

// ---------------------------------------------------------------------------------------------
// One deployment, as the config file and the CLI see it
// ---------------------------------------------------------------------------------------------

export const HostActionsSchema = z
  .object({
    flag: FlagTargetSchema.prefault({ kind: 'env-file' }),
    restart: RestartSchema.prefault({ kind: 'systemd' }),
    prefix: CommandPrefixSchema,
    logs: LogSourceSchema.prefault({ kind: 'journald' }),
  })
  .strict();

export type HostActions = z.infer<typeof HostActionsSchema>;
export type HostActionsInput = z.input<typeof HostActionsSchema>;

/**
 * Combinations that are valid but usually wrong. They are warnings rather than errors because a
 * deployment can legitimately wrap one in the other (a systemd unit that runs `docker compose up`).
 */
export function hostConfigWarnings(flag: FlagTarget, restart: RestartConfig): string[] {
  const warnings: string[] = [];
  if (flag.kind === 'container-env' && restart.kind === 'systemd') {
    warnings.push(
      `flag.kind is container-env but restart.kind is systemd: a container only reads its env file when it is re-created; make sure unit ${restart.unit} re-creates the container`,
    );
  }
  if ((flag.kind === 'env-file' || flag.kind === 'systemd-dropin') && restart.kind === 'container') {
    warnings.push(`flag.kind is ${flag.kind} (read by systemd) but restart.kind is container: a container does not read ${flag.path}`);
  }
  if (flag.kind === 'systemd-dropin' && restart.kind === 'command') {
    warnings.push('flag.kind is systemd-dropin: `systemctl daemon-reload` runs before the custom restart command');
  }
  return warnings;
}

/**
 * Parses one input at the edge. A failure is a non-retryable 'InvalidHostConfig' whose message names
 * every wrong field (`restart.argv[0]: …`) so it can be fixed in one go; values are never echoed.
 */
export function parseHostInput<S extends z.ZodType>(schema: S, value: unknown, field: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${formatPath(field, issue.path)}: ${issue.message}`);
  throw ApplicationFailure.create({
    type: 'InvalidHostConfig',
    message: `Invalid host configuration: ${problems.join('; ')}`,
    nonRetryable: true,
    details: [{ field, problems }],
  });
}

function formatPath(field: string, path: ReadonlyArray<PropertyKey>): string {
  let out = field;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}
