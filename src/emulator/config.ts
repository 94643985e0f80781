/**
 * The emulator is configured like Pulse, by environment variables, plus a few emulator-only knobs
 * (PULSE_EMULATOR_*). `configFromEnv` validates them with zod; errors name the variable and the fix.
 */
import { z } from 'zod';
import type { ProfileName } from './profiles.js';

export interface EmulatorConfig {
  dataDir: string;
  port: number;
  bindAddress: string;
  metricsPort: number;
  /** Raw PULSE_ENABLE_TRUENAS (undefined = unset); read once at start with the profile's rules. */
  enableTrueNAS: string | undefined;
  metricsToken?: string;
  authUser?: string;
  authPass?: string;
  profile: ProfileName;
  tickSeconds: number;
  staleSeconds: number;
  tokens: Array<{ token: string; scopes: string[] }>;
  /** Per-request timeout of poller calls (Pulse: 30 s) and of connection tests (Pulse: 10 s). */
  pollTimeoutMs: number;
  testTimeoutMs: number;
  /** Start an in-process fake TrueNAS for demos. */
  demoTrueNAS: boolean;
  demoTrueNASKey?: string;
  /** Append every request (control API included) as a JSON line here, so a test can prove what a client asked. */
  requestLogFile?: string;
}

const port = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a TCP port number (0 picks a free port)` })
    .int(`${name} must be a whole number`)
    .min(0, `${name} must be between 0 and 65535`)
    .max(65535, `${name} must be between 0 and 65535`);

const seconds = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number of seconds, e.g. 60` })
    .positive(`${name} must be a positive number of seconds, e.g. 60`);

export const TokenPresetSchema = z.array(
  z
    .object({
      token: z.string().min(8, 'each preset token needs a "token" of at least 8 characters'),
      scopes: z.array(z.string().min(1)).default(['*']),
    })
    .strict(),
);

const EnvSchema = z.object({
  PULSE_DATA_DIR: z
    .string({ error: 'PULSE_DATA_DIR is required: set it to the emulator data directory' })
    .min(1, 'PULSE_DATA_DIR is required: set it to the emulator data directory'),
  FRONTEND_PORT: port('FRONTEND_PORT').default(7655),
  BIND_ADDRESS: z.string().min(1).default('127.0.0.1'),
  PULSE_METRICS_PORT: port('PULSE_METRICS_PORT').optional(),
  METRICS_PORT: port('METRICS_PORT').optional(),
  PULSE_ENABLE_TRUENAS: z.string().optional(),
  PULSE_METRICS_TOKEN: z.string().optional(),
  PULSE_AUTH_USER: z.string().optional(),
  PULSE_AUTH_PASS: z.string().optional(),
  PULSE_EMULATOR_PROFILE: z.enum(['feb', 'v6'], { error: 'PULSE_EMULATOR_PROFILE must be "feb" or "v6"' }).default('feb'),
  PULSE_EMULATOR_TICK_SECONDS: seconds('PULSE_EMULATOR_TICK_SECONDS').default(60),
  PULSE_EMULATOR_STALE_SECONDS: seconds('PULSE_EMULATOR_STALE_SECONDS').default(120),
  PULSE_EMULATOR_API_TOKENS: z.string().optional(),
  PULSE_EMULATOR_TRUENAS_TIMEOUT_MS: z.coerce
    .number({ error: 'PULSE_EMULATOR_TRUENAS_TIMEOUT_MS must be milliseconds' })
    .int()
    .positive()
    .optional(),
  PULSE_EMULATOR_DEMO_TRUENAS: z.string().optional(),
  PULSE_EMULATOR_DEMO_TRUENAS_KEY: z.string().optional(),
  PULSE_EMULATOR_REQUEST_LOG: z.string().optional(),
});

export function configFromEnv(env: Record<string, string | undefined>): EmulatorConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid emulator environment: ${String(issue.path[0] ?? '')}: ${issue.message}`);
  }
  const e = parsed.data;
  let tokens: EmulatorConfig['tokens'] = [];
  if (e.PULSE_EMULATOR_API_TOKENS?.trim()) {
    let raw: unknown;
    try {
      raw = JSON.parse(e.PULSE_EMULATOR_API_TOKENS);
    } catch {
      throw new Error('invalid emulator environment: PULSE_EMULATOR_API_TOKENS must be JSON such as [{"token":"…","scopes":["*"]}]');
    }
    const t = TokenPresetSchema.safeParse(raw);
    if (!t.success) throw new Error(`invalid emulator environment: PULSE_EMULATOR_API_TOKENS: ${t.error.issues[0].message}`);
    tokens = t.data;
  }
  const timeout = e.PULSE_EMULATOR_TRUENAS_TIMEOUT_MS;
  return {
    dataDir: e.PULSE_DATA_DIR,
    port: e.FRONTEND_PORT,
    bindAddress: e.BIND_ADDRESS,
    metricsPort: e.PULSE_METRICS_PORT ?? e.METRICS_PORT ?? 9091,
    enableTrueNAS: e.PULSE_ENABLE_TRUENAS,
    metricsToken: e.PULSE_METRICS_TOKEN || undefined,
    authUser: e.PULSE_AUTH_USER || undefined,
    authPass: e.PULSE_AUTH_PASS || undefined,
    profile: e.PULSE_EMULATOR_PROFILE,
    tickSeconds: e.PULSE_EMULATOR_TICK_SECONDS,
    staleSeconds: e.PULSE_EMULATOR_STALE_SECONDS,
    tokens,
    pollTimeoutMs: timeout ?? 30_000,
    testTimeoutMs: timeout ?? 10_000,
    demoTrueNAS: e.PULSE_EMULATOR_DEMO_TRUENAS === '1' || e.PULSE_EMULATOR_DEMO_TRUENAS === 'true',
    demoTrueNASKey: e.PULSE_EMULATOR_DEMO_TRUENAS_KEY || undefined,
    requestLogFile: e.PULSE_EMULATOR_REQUEST_LOG || undefined,
  };
}
