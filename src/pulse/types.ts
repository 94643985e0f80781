/**
 * Zod schemas for what Pulse sends back (pulse-api.md §2, §3) and for what the runbook sends to it.
 * Answers are parsed loosely (unknown fields pass through) because both Pulse lines add fields over time;
 * inputs are parsed strictly, so a typo is reported by field name instead of silently ignored the way Pulse
 * ignores `api_key` (§8.1).
 */
import { z } from 'zod';

// --- TrueNAS connections (§2.2, §2.3) --------------------------------------------------------------------------

/** v6 (2026-03-30+) per-connection poll state in the GET list. */
export const ConnectionPollSchema = z.looseObject({
  intervalSeconds: z.number().optional(),
  lastAttemptAt: z.string().optional(),
  lastSuccessAt: z.string().optional(),
  consecutiveFailures: z.number().optional(),
  lastError: z.unknown().optional(),
});

/** v6 (2026-03-30+) what the poller last saw on the NAS. */
export const ConnectionObservedSchema = z.looseObject({
  host: z.string().optional(),
  resourceId: z.string().optional(),
  collectedAt: z.string().optional(),
  systems: z.number().optional(),
});

/** A stored connection as Pulse returns it: secrets masked as "********", zero-valued omitempty fields left out. */
export const TrueNASConnectionSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  host: z.string(),
  port: z.number().int().optional(),
  apiKey: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  // Always present in Pulse's answers; optional here so a harmless omission is not a protocol failure.
  useHttps: z.boolean().optional(),
  insecureSkipVerify: z.boolean().optional(),
  fingerprint: z.string().optional(),
  enabled: z.boolean().optional(),
  pollIntervalSeconds: z.number().int().optional(),
  poll: ConnectionPollSchema.optional(),
  observed: ConnectionObservedSchema.optional(),
});
export type TrueNASConnection = z.infer<typeof TrueNASConnectionSchema>;

/** GET /api/truenas/connections must be an ARRAY; an error object here is the §8.2 trap. */
export const TrueNASConnectionListSchema = z.array(TrueNASConnectionSchema);

/** `{"success":true}` from test, `{"success":true,"id":…}` from DELETE. */
export const SuccessSchema = z.looseObject({ success: z.boolean(), id: z.string().optional() });
export type SuccessAnswer = z.infer<typeof SuccessSchema>;

// --- errors (§2.1) ---------------------------------------------------------------------------------------------

/** `writeErrorResponse` envelope; also the short `{"error":"missing_scope","requiredScope":…}` of the auth layer. */
export const ErrorEnvelopeSchema = z.looseObject({
  error: z.string(),
  code: z.string().optional(),
  status_code: z.number().optional(),
  timestamp: z.number().optional(),
  request_id: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  requiredScope: z.string().optional(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

// --- security status (§1) --------------------------------------------------------------------------------------

export const SecurityStatusSchema = z.looseObject({
  /** Any authentication at all (a password, API tokens, a proxy, SSO, REQUIRE_AUTH). */
  hasAuthentication: z.boolean().optional(),
  requiresAuth: z.boolean().optional(),
  /** API tokens exist. Feb and v6-rel tell anyone; newer Pulse only a caller whose token may read settings. */
  apiTokenConfigured: z.boolean().optional(),
  /** The password login's user name; filled in only for an authenticated caller ("" otherwise). */
  authUsername: z.string().optional(),
  /** The scopes of the token the caller authenticated with (present only for a token caller). */
  tokenScopes: z.array(z.string()).optional(),
  /** Newer Pulse: public | authenticated | privileged, how much of this answer the caller may see. */
  detailLevel: z.string().optional(),
  hasProxyAuth: z.boolean().optional(),
  ssoEnabled: z.boolean().optional(),
  oidcEnabled: z.boolean().optional(),
});
export type SecurityStatus = z.infer<typeof SecurityStatusSchema>;

// --- unified resources (§3.1) ----------------------------------------------------------------------------------

/** Per-source state. `stale` appears only here (v6), never as a resource status. */
export const SourceStatusSchema = z.looseObject({
  status: z.string(),
  lastSeen: z.string().optional(),
  error: z.string().optional(),
});

export const UnifiedResourceSchema = z.looseObject({
  id: z.string(),
  /** Feb: host | storage | vm | lxc …; v6 renames host to agent. Kept open for later types. */
  type: z.string(),
  name: z.string(),
  /** online | offline | warning | unknown. */
  status: z.string(),
  lastSeen: z.string().optional(),
  updatedAt: z.string().optional(),
  sources: z.array(z.string()).optional(),
  sourceStatus: z.record(z.string(), SourceStatusSchema).optional(),
  parentId: z.string().optional(),
  childCount: z.number().optional(),
  tags: z.array(z.string()).optional(),
  identity: z.unknown().optional(),
  metrics: z.unknown().optional(),
  truenas: z.unknown().optional(),
});
export type UnifiedResource = z.infer<typeof UnifiedResourceSchema>;

export const PageMetaSchema = z.looseObject({
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
  totalPages: z.number().int(),
});

/** `/api/v2/resources` (Feb) and `/api/resources` (v6+): `{data, meta, aggregations}`. */
export const ResourcePageSchema = z.looseObject({
  data: z.array(UnifiedResourceSchema),
  meta: PageMetaSchema,
  aggregations: z.unknown().optional(),
});
export type ResourcePage = z.infer<typeof ResourcePageSchema>;

/** Feb legacy `/api/resources`: `{resources, count, stats}`; never holds TrueNAS records (§3.2). */
export const LegacyResourcesSchema = z.looseObject({
  resources: z.array(z.unknown()),
  count: z.number(),
  stats: z.unknown().optional(),
});

// --- inputs ----------------------------------------------------------------------------------------------------

/** Fields a connection body may carry; `api_key` is the runbook's spelling and is translated (§8.1). */
const connectionFields = {
  id: z.string().trim().min(1, 'id must not be blank when given').optional(),
  name: z.string().trim().optional(),
  // Optional here and required in the refinement, so a missing host and missing credentials are reported together.
  host: z.string('host must be a string such as https://truenas.local').trim().optional(),
  port: z.number().int().min(1, 'port must be 1-65535').max(65535, 'port must be 1-65535').optional(),
  apiKey: z.string().optional(),
  api_key: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  useHttps: z.boolean().optional(),
  insecureSkipVerify: z.boolean().optional(),
  fingerprint: z.string().trim().optional(),
  enabled: z.boolean().optional(),
  pollIntervalSeconds: z.number().int().positive('pollIntervalSeconds must be a positive number of seconds').optional(),
};

/**
 * Pulse takes `host` as `nas.local`, `nas:8443`, `https://nas` or `http://nas:80`; a path, query or userinfo is
 * refused later by Pulse's TrueNAS client (truenas_invalid_config). Refusing it here names the field.
 */
function hostProblem(host: string): string | undefined {
  if (!host) return 'host is required: the TrueNAS address, e.g. https://truenas.local or truenas.local:443';
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host);
  let url: URL;
  try {
    url = new URL(hasScheme ? host : `https://${host}`);
  } catch {
    return `host "${host}" is not a valid address: use a name or IP, optionally with http(s):// and :port`;
  }
  if (!['http:', 'https:'].includes(url.protocol)) return `host must use http:// or https://, not ${url.protocol}//`;
  if (url.username || url.password) return 'host must not contain user:password@; put credentials in apiKey or username/password';
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    return `host must be an address without a path or query (got "${host}"); e.g. https://truenas.local`;
  }
  return undefined;
}

type RawConnection = {
  apiKey?: string;
  api_key?: string;
  username?: string;
  password?: string;
};

function checkApiKeySpellings(v: RawConnection, ctx: z.RefinementCtx): void {
  if (v.apiKey !== undefined && v.api_key !== undefined && v.apiKey !== v.api_key) {
    ctx.addIssue({
      code: 'custom',
      path: ['api_key'],
      message: 'api_key and apiKey are both given with different values: give only apiKey',
    });
  }
}

/** Drops `api_key`, moving its value to `apiKey` (Pulse silently ignores `api_key`, §8.1). */
function translateApiKey<T extends RawConnection>(v: T): Omit<T, 'api_key'> {
  const { api_key, ...rest } = v;
  const apiKey = rest.apiKey ?? api_key;
  return (apiKey === undefined ? rest : { ...rest, apiKey }) as Omit<T, 'api_key'>;
}

/**
 * Body for POST /api/truenas/connections and POST …/test. Accepts the runbook's `api_key`, sends `apiKey`,
 * and defaults `enabled: true` because Feb Pulse defaults it to false and the poller skips disabled entries.
 */
export const NewConnectionSchema = z
  .strictObject(connectionFields)
  .superRefine((v, ctx) => {
    const problem = hostProblem(v.host ?? '');
    if (problem) ctx.addIssue({ code: 'custom', path: ['host'], message: problem });
    checkApiKeySpellings(v, ctx);
    const key = v.apiKey ?? v.api_key;
    if (!key?.trim() && !(v.username?.trim() && v.password)) {
      const path = v.username?.trim() ? ['password'] : ['apiKey'];
      ctx.addIssue({
        code: 'custom',
        path,
        message: "credentials are required: give apiKey (the runbook's api_key is accepted) or both username and password",
      });
    }
  })
  .transform((v) => {
    const out = translateApiKey(v);
    // host is a non-blank string here: the refinement above refused anything else.
    return { ...out, host: v.host as string, enabled: v.enabled ?? true };
  });
export type NewConnectionInput = z.input<typeof NewConnectionSchema>;
export type NewConnection = z.output<typeof NewConnectionSchema>;

/**
 * Optional body for POST …/{id}/test (v6, 2026-03-30+): fields override the stored connection; a masked
 * "********" secret keeps the stored one. Nothing is required.
 */
export const ConnectionOverridesSchema = z
  .strictObject(connectionFields)
  .superRefine((v, ctx) => {
    if (v.host !== undefined) {
      const problem = hostProblem(v.host);
      if (problem) ctx.addIssue({ code: 'custom', path: ['host'], message: problem });
    }
    checkApiKeySpellings(v, ctx);
  })
  .transform((v) => translateApiKey(v));
export type ConnectionOverridesInput = z.input<typeof ConnectionOverridesSchema>;
export type ConnectionOverrides = z.output<typeof ConnectionOverridesSchema>;

/** Each kind of authentication Pulse has, as far as its security status tells ('unknown' where it does not). */
export interface PulseAuthMode {
  /** Any authentication at all; false means the API is open anonymously. */
  configured: boolean | 'unknown';
  /** API tokens (X-API-Token / Bearer). */
  tokens: boolean | 'unknown';
  /** The admin password login (basic auth / session). */
  password: boolean | 'unknown';
}

/** What the client learned about the server it talks to (see client.ts detectCapabilities). */
export interface PulseCapabilities {
  /** Where unified resources live: Feb `/api/v2/resources`, v6 `/api/resources`. */
  resourcesPath: '/api/v2/resources' | '/api/resources';
  /** Whether POST /api/truenas/connections/{id}/test exists (2026-03-30+). */
  perIdTest: boolean | 'unknown';
  /** Whether the TrueNAS feature flag is on (the connections route answers instead of 404 truenas_disabled). */
  truenasEnabled: boolean;
  line: 'feb' | 'v6' | 'unknown';
  /** Whether Pulse has any auth configured (then every API call needs the token). */
  authRequired: boolean;
  /** Which kinds of authentication Pulse has: API tokens, a password login, both, or none (capabilities.ts). */
  auth: PulseAuthMode;
  /** How each answer was read, for evidence. */
  notes: string[];
}
