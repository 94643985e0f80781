/**
 * Input of the Enable procedure (runbook §1) and the failure types its steps raise.
 *
 * The TrueNAS API key never travels in the input: a connection names it by reference (an environment
 * variable or a file on the worker's host, read by the activity), or points at a JSON body file in the
 * runbook's own shape (`{"name","host","api_key"}`), also read by the activity. Anything in the input is
 * stored in workflow history, so a literal key is refused here with the fix in the message.
 *
 * Imported by workflows too: zod and host.ts only, no node: imports.
 */
import { z } from 'zod';
import { envNameSchema } from './env-name.js';
import { CommandPrefixSchema, FlagTargetSchema, LogSourceSchema, RestartSchema } from './host.js';
import { PulseTargetSchema } from './pulse-target.js';
import { RetrySettingsSchema } from './retry.js';
import { absolutePath } from './rollback.js';

export const ENABLE_FAILURES = {
  /** The restart ran but Pulse still answers as before: the service did not read the flag where it was written. */
  flagNotApplied: 'FlagNotApplied',
  /** The API key reference (env var or file) or the body file cannot be read on the worker's host. */
  secretUnavailable: 'SecretUnavailable',
  /** The connection body file is not the JSON object Pulse takes. */
  connectionInvalid: 'ConnectionInvalid',
  /** Pulse could not reach or log in to the NAS (400 truenas_connection_failed / truenas_invalid_config). */
  connectionTestFailed: 'ConnectionTestFailed',
  /** No sign of the poller (poll state, resources, log lines) within the window. */
  pollerNotObserved: 'PollerNotObserved',
  /** No TrueNAS resource appeared within the window. */
  resourcesMissing: 'TrueNASResourcesMissing',
  /** The poller polled the connection and the poll failed: Pulse's own category and message say why. */
  pollFailed: 'TrueNASPollFailed',
} as const;

const REFERENCE_HELP =
  'must be a reference such as {"env":"TRUENAS_API_KEY"} or {"file":"/etc/pulse-runbooks/nas-1.key"}, never the key itself: the input is stored in workflow history';

/** A secret named by reference; the activity reads it on the worker's host. */
export const SecretRefSchema = z
  .object(
    {
      env: envNameSchema('TRUENAS_API_KEY', 'the TrueNAS API key').optional(),
      file: absolutePath('file', '/etc/pulse-runbooks/nas-1.key').optional(),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? REFERENCE_HELP : undefined) },
  )
  .strict()
  .refine((r) => Boolean(r.env) !== Boolean(r.file), { error: 'give exactly one of env or file' });

export type SecretRef = z.infer<typeof SecretRefSchema>;

/**
 * Pulse takes `host` as `nas.local`, `nas:8443`, `https://nas` or `http://nas`; a path, query or user:password
 * is refused by Pulse's client later (truenas_invalid_config), so it is refused here, naming the field.
 */
export function trueNASHostProblem(host: string): string | undefined {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host);
  let url: URL;
  try {
    url = new URL(hasScheme ? host : `https://${host}`);
  } catch {
    return `"${host}" is not an address: give a name or IP, optionally with http(s):// and :port`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http:// or https://, not ${url.protocol}//`;
  if (url.username || url.password) return 'must not contain user:password@; the API key is given by reference';
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash)
    return `must be an address without a path or query, e.g. https://truenas.local`;
  return undefined;
}

/**
 * Pulse dials HTTPS whenever `port` is 0, even for an `http://` host (resolveEndpoint: the scheme sets
 * useHTTPS=false, then `!useHTTPS && port == 0` turns it back on; src/emulator/README.md). A plain-HTTP NAS
 * therefore needs the `port` field; without it the test and every poll fail with a TLS error.
 */
export function connectionWarnings(c: { host: string; port?: number; enabled?: boolean }): string[] {
  const warnings: string[] = [];
  if (/^http:\/\//i.test(c.host.trim()) && !c.port) {
    warnings.push(
      `host ${c.host} is http:// but has no port field: Pulse dials HTTPS when port is 0, so give the port separately (e.g. host "http://nas", port 80)`,
    );
  }
  return warnings;
}

const ConnectionFields = {
  /** A JSON file with the runbook's body (`{"name","host","api_key"}` or with `apiKey`), read by the activity. */
  bodyFile: absolutePath('connection.bodyFile', '/etc/pulse-runbooks/nas-1.json').optional(),
  name: z.string().trim().min(1, 'must not be blank when given').optional(),
  host: z.string().trim().optional(),
  port: z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535').optional(),
  apiKey: SecretRefSchema.optional(),
  /** The runbook's spelling (§8.1); translated to apiKey. */
  api_key: SecretRefSchema.optional(),
  useHttps: z.boolean().optional(),
  insecureSkipVerify: z.boolean().optional(),
  fingerprint: z.string().trim().min(1).optional(),
};

/** The connection enable.5 adds: inline fields with the key by reference, or a body file. */
export const ConnectionSpecSchema = z
  .strictObject(ConnectionFields)
  .superRefine((v, ctx) => {
    if (v.bodyFile !== undefined) {
      const others = Object.keys(v).filter((k) => k !== 'bodyFile' && (v as Record<string, unknown>)[k] !== undefined);
      if (others.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['bodyFile'],
          message: `give either bodyFile or the fields (${others.join(', ')}), not both`,
        });
      }
      return;
    }
    if (!v.host) {
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: 'is required: the TrueNAS address, e.g. https://truenas.local (or give bodyFile)',
      });
    } else {
      const problem = trueNASHostProblem(v.host);
      if (problem) ctx.addIssue({ code: 'custom', path: ['host'], message: problem });
    }
    if (v.apiKey && v.api_key) {
      ctx.addIssue({ code: 'custom', path: ['api_key'], message: "give apiKey or the runbook's api_key, not both" });
    } else if (!v.apiKey && !v.api_key) {
      ctx.addIssue({ code: 'custom', path: ['apiKey'], message: `is required: ${REFERENCE_HELP}` });
    }
  })
  .transform((v): ConnectionSpec => {
    if (v.bodyFile !== undefined) return { bodyFile: v.bodyFile };
    const { api_key, apiKey, bodyFile: _none, ...rest } = v;
    return { ...rest, host: v.host as string, apiKey: (apiKey ?? api_key) as SecretRef };
  });

export type ConnectionSpec =
  | { bodyFile: string }
  | {
      name?: string;
      host: string;
      port?: number;
      apiKey: SecretRef;
      useHttps?: boolean;
      insecureSkipVerify?: boolean;
      fingerprint?: string;
    };
export type ConnectionSpecInput = z.input<typeof ConnectionSpecSchema>;

/** Where the flag is written, how Pulse is restarted, how commands are reached, where its logs are read. */
export const HostStepsShape = {
  flag: FlagTargetSchema.prefault({ kind: 'env-file' }),
  restart: RestartSchema.prefault({ kind: 'systemd' }),
  prefix: CommandPrefixSchema,
  logs: LogSourceSchema.prefault({ kind: 'journald' }),
};

export const EnableInputSchema = z
  .object({
    pulse: PulseTargetSchema,
    /** Plan mode: only read-only GETs are made; the file write, restart, POSTs and waits are described. */
    plan: z.boolean().default(false),
    ...HostStepsShape,
    /** The connection to add (enable.5); without it steps 5 and 6 are skipped and existing ones are verified. */
    connection: ConnectionSpecSchema.optional(),
    /**
     * How long the poller may take to poll the new connection, and again for its resources to appear: two of
     * Pulse's 60 s ticks, since syncConnections() picks a new connection up on the next tick only.
     */
    appearWithinSeconds: z.number().positive().max(86_400).default(120),
    /** How often Pulse is read while waiting. */
    verifyEverySeconds: z.number().positive().max(600).default(5),
    retry: RetrySettingsSchema.default({ maximumAttempts: 10, initialIntervalSeconds: 1, maximumIntervalSeconds: 30 }),
    /**
     * A failed run undoes what it changed (the connection it added, the flag it set, with one restart) unless
     * this is true; then it leaves everything as it is and lists exactly what is left. A re-run converges either way.
     */
    keepOnFailure: z.boolean().default(false),
  })
  .strict();

export type EnableInput = z.infer<typeof EnableInputSchema>;
export type EnableInputRaw = z.input<typeof EnableInputSchema>;
