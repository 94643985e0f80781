/**
 * Loads the settings from, in order of precedence: CLI flags, the environment, an optional JSON config file,
 * then defaults. Every source is checked by the same zod schemas, and an error names the field, where it came
 * from and how to fix it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PulseTargetSchema, type PulseTarget } from './pulse-target.js';
import { TemporalSettingsSchema, type TemporalSettings } from './temporal.js';
import { ConfigError } from './config-error.js';

export const ConfigFileSchema = z
  .object({
    pulse: PulseTargetSchema.partial({ url: true }).optional(),
    temporal: TemporalSettingsSchema.partial().optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

// Defined apart (no zod there) so the CLI's entry can recognise it without loading the schemas.
export { ConfigError } from './config-error.js';

/**
 * Turns a zod error into one line per problem: "<source> <field>: <message>". `fieldNames` maps a path to the flag
 * that set it; a deeper path is named after its nearest mapped parent ("--roles-file (at Engineering.0)").
 */
export function describeZodError(err: z.ZodError, source: string, fieldNames: Record<string, string> = {}): string {
  return err.issues.map((issue) => `${source} ${fieldName(issue.path.map(String), fieldNames)}: ${issue.message}`).join('\n');
}

function fieldName(path: string[], fieldNames: Record<string, string>): string {
  for (let n = path.length; n > 0; n--) {
    const flag = fieldNames[path.slice(0, n).join('.')];
    if (flag) return n === path.length ? flag : `${flag} (at ${path.slice(n).join('.')})`;
  }
  return path.join('.') || '(value)';
}

/** Parses a value with a schema, or throws a ConfigError that names the field and its source. */
export function parseOrExplain<S extends z.ZodType>(
  schema: S,
  value: unknown,
  source: string,
  fieldNames: Record<string, string> = {},
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(describeZodError(result.error, source, fieldNames));
  return result.data;
}

export function readConfigFile(path: string): ConfigFile {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `config file ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); fix the path given to --config or PULSE_RUNBOOKS_CONFIG`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`config file ${path}: is not valid JSON (${(err as Error).message})`);
  }
  return parseOrExplain(ConfigFileSchema, json, `config file ${path}:`);
}

export interface PulseFlags {
  pulseUrl?: string;
  tokenEnv?: string;
  tokenFile?: string;
  timeoutMs?: number;
}

const PULSE_FIELD_NAMES = {
  url: '--pulse-url / PULSE_URL',
  'token.env': '--token-env / PULSE_TOKEN_ENV',
  'token.file': '--token-file / PULSE_TOKEN_FILE',
  token: 'the Pulse token (--token-env or --token-file)',
  timeoutMs: '--timeout-ms',
};

/**
 * Resolves the Pulse target. The token is only ever a reference: the name of an env var (default PULSE_TOKEN
 * when that variable is set) or a file path; a token value is never accepted on the command line.
 */
export function resolvePulseTarget(flags: PulseFlags, env: NodeJS.ProcessEnv, file?: ConfigFile): PulseTarget | undefined {
  const url = flags.pulseUrl ?? env.PULSE_URL ?? file?.pulse?.url;
  if (!url) return undefined;
  const tokenEnv = flags.tokenEnv ?? env.PULSE_TOKEN_ENV;
  const tokenFile = flags.tokenFile ?? env.PULSE_TOKEN_FILE;
  let token: PulseTarget['token'];
  if (tokenEnv || tokenFile) token = { env: tokenEnv, file: tokenFile };
  else if (file?.pulse?.token) token = file.pulse.token;
  else if (env.PULSE_TOKEN) token = { env: 'PULSE_TOKEN' };
  const candidate = {
    url,
    ...(token ? { token: Object.fromEntries(Object.entries(token).filter(([, v]) => v !== undefined)) } : {}),
    ...((flags.timeoutMs ?? file?.pulse?.timeoutMs) ? { timeoutMs: flags.timeoutMs ?? file?.pulse?.timeoutMs } : {}),
  };
  return parseOrExplain(PulseTargetSchema, candidate, 'Pulse target', PULSE_FIELD_NAMES);
}

export interface TemporalFlags {
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
}

export function resolveTemporalSettings(flags: TemporalFlags, env: NodeJS.ProcessEnv, file?: ConfigFile): TemporalSettings {
  const candidate = Object.fromEntries(
    Object.entries({
      address: flags.temporalAddress ?? env.TEMPORAL_ADDRESS ?? file?.temporal?.address,
      namespace: flags.namespace ?? env.TEMPORAL_NAMESPACE ?? file?.temporal?.namespace,
      taskQueue: flags.taskQueue ?? env.TEMPORAL_TASK_QUEUE ?? file?.temporal?.taskQueue,
    }).filter(([, v]) => v !== undefined && v !== ''),
  );
  return parseOrExplain(TemporalSettingsSchema, candidate, 'Temporal setting', {
    address: '--temporal-address / TEMPORAL_ADDRESS',
    namespace: '--namespace / TEMPORAL_NAMESPACE',
    taskQueue: '--task-queue / TEMPORAL_TASK_QUEUE',
  });
}

export function loadConfigFile(flagPath: string | undefined, env: NodeJS.ProcessEnv): ConfigFile | undefined {
  const p = flagPath ?? env.PULSE_RUNBOOKS_CONFIG;
  return p ? readConfigFile(p) : undefined;
}
