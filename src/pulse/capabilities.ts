/**
 * Turning probe answers into PulseCapabilities. Pure, so every combination is testable without a server;
 * client.ts sends the probes. The timeline behind the rules is pulse-api.md §0:
 *  - Feb line: `/api/v2/resources` served ({data, meta}); `/api/resources` is the legacy shape; the per-id
 *    test route does not exist (the `{id}` prefix route accepts only DELETE → 405).
 *  - late Feb: `/api/v2/resources` is a deprecated alias (header `Deprecation: true`) of a unified `/api/resources`.
 *  - v6-rel (2026-03-18): no `/api/v2/resources`; `/api/resources` is unified; per-id test still 405.
 *  - 2026-03-30+: per-id test exists (404 truenas_not_found for an unknown id).
 */
import type { PulseAnswer } from './transport.js';
import { PULSE_PATHS } from './paths.js';
import type { PulseAuthMode, PulseCapabilities, SecurityStatus } from './types.js';

export interface CapabilityProbes {
  /** GET /api/security/status parsed, or undefined when it did not answer 200 JSON. */
  security?: SecurityStatus;
  /** GET /api/truenas/connections: answered with an array, or 404 truenas_disabled. */
  connections: 'enabled' | 'disabled';
  /** GET /api/v2/resources?limit=1 */
  v2: 'envelope' | 'deprecated-alias' | 'absent';
  /** GET /api/resources?limit=1, probed only when v2 is absent. */
  resources?: 'unified' | 'legacy' | 'absent';
  /** POST /api/truenas/connections/<random-uuid>/test */
  perIdTest: boolean | 'unknown';
}

/** Reads the per-id test probe. A random UUID matches no stored connection, so nothing is tested. */
export function perIdTestFrom(answer: Pick<PulseAnswer, 'status' | 'json'>): boolean | 'unknown' {
  const code = (answer.json as { code?: unknown } | undefined)?.code;
  if (answer.status === 405) return false; // Feb / v6-rel: the {id} route accepts only DELETE
  if (answer.status === 404 && code === 'truenas_not_found') return true; // the handler ran and looked the id up
  if (answer.status === 404 && code === 'truenas_disabled') return 'unknown'; // flag off: the handler stopped first
  if (answer.status === 404) return false; // plain 404: no such route at all
  if (answer.status === 400 || (answer.status >= 200 && answer.status < 300)) return true; // the route parsed the body
  return 'unknown'; // 401/403 (auth before routing), 5xx
}

/** Reads a resources probe: the unified envelope, the Feb legacy shape, or anything else (absent). */
export function resourcesShapeFrom(answer: Pick<PulseAnswer, 'status' | 'json'>): 'unified' | 'legacy' | 'absent' {
  if (answer.status < 200 || answer.status > 299) return 'absent';
  const body = answer.json as Record<string, unknown> | undefined;
  if (body && Array.isArray(body.data) && body.meta && typeof body.meta === 'object') return 'unified';
  if (body && Array.isArray(body.resources)) return 'legacy';
  // e.g. the web UI's index.html served for an unknown path
  return 'absent';
}

/**
 * Which kinds of authentication Pulse has, from GET /api/security/status. Any field that says "configured" counts
 * (a `false` in one field never hides a `true` in another: Pulse's fields overlap, and API tokens alone are
 * authentication). Tokens: `apiTokenConfigured` (Feb and v6-rel tell anyone; newer Pulse only a caller allowed to
 * read settings), else a token caller's `tokenScopes` prove some exist. Password: the `authUsername` an
 * authenticated caller is shown; a caller known to be authenticated (`tokenScopes`, or a privileged `detailLevel`)
 * that is shown none means there is none; and authentication with no tokens, no proxy and no SSO is the password.
 */
export function authModeFrom(security: SecurityStatus | undefined): PulseAuthMode {
  if (!security) return { configured: 'unknown', tokens: 'unknown', password: 'unknown' };
  const username = security.authUsername?.trim() ?? '';
  const tokens: boolean | 'unknown' =
    typeof security.apiTokenConfigured === 'boolean'
      ? security.apiTokenConfigured
      : (security.tokenScopes?.length ?? 0) > 0
        ? true
        : 'unknown';
  const claims = [security.hasAuthentication, security.requiresAuth, tokens === true, username !== ''];
  const configured: boolean | 'unknown' = claims.some((c) => c === true)
    ? true
    : security.hasAuthentication === false || security.requiresAuth === false
      ? false
      : 'unknown';
  if (configured === false) return { configured, tokens: false, password: false };
  const callerAuthenticated = security.tokenScopes !== undefined || security.detailLevel === 'privileged';
  const otherKind = security.hasProxyAuth === true || security.ssoEnabled === true || security.oidcEnabled === true;
  const password: boolean | 'unknown' =
    username !== ''
      ? true
      : callerAuthenticated && security.authUsername !== undefined
        ? false
        : configured === true && tokens === false && !otherKind
          ? true
          : 'unknown';
  return { configured, tokens, password };
}

/** What Pulse's authentication is, for a person: "API tokens only (no password login)", "none (…)", … */
export function describeAuthMode(mode: PulseAuthMode): string {
  if (mode.configured === 'unknown') return 'not told (the security status did not answer)';
  if (mode.configured === false) return 'none (the API is open anonymously)';
  if (mode.tokens === true && mode.password === true) return 'API tokens and a password login';
  if (mode.tokens === true && mode.password === false) return 'API tokens only (no password login)';
  if (mode.tokens === false && mode.password === true) return 'a password login only (no API tokens)';
  if (mode.tokens === false && mode.password === false) return 'neither API tokens nor a password login (a proxy or SSO)';
  const said = (what: string, v: boolean | 'unknown') => `${what} ${v === 'unknown' ? 'not told' : v ? 'yes' : 'no'}`;
  return `configured (${said('API tokens', mode.tokens)}, ${said('password login', mode.password)})`;
}

export function interpretCapabilities(p: CapabilityProbes): PulseCapabilities {
  const notes: string[] = [];

  const auth = authModeFrom(p.security);
  const authRequired = auth.configured === true;
  if (p.security) notes.push(`security status: Pulse authentication ${describeAuthMode(auth)}`);
  else notes.push('security status did not answer; authRequired assumed false');

  const resourcesPath = p.v2 === 'envelope' ? PULSE_PATHS.resourcesV2 : PULSE_PATHS.resources;
  if (p.v2 === 'envelope') notes.push('/api/v2/resources serves the {data, meta} envelope (Feb line)');
  if (p.v2 === 'deprecated-alias') notes.push('/api/v2/resources is a deprecated alias; using /api/resources (late Feb)');
  if (p.v2 === 'absent') notes.push(`/api/v2/resources is absent; /api/resources is ${p.resources ?? 'not probed'}`);

  // Each signal votes for a line; disagreeing votes give 'unknown' rather than a guess.
  const votes = new Set<'feb' | 'v6' | 'unknown'>();
  if (p.v2 === 'envelope' || p.v2 === 'deprecated-alias') votes.add('feb');
  else if (p.resources === 'unified') votes.add('v6');
  else votes.add('unknown');
  if (p.perIdTest === true) votes.add('v6');
  const line = votes.size === 1 ? [...votes][0] : 'unknown';

  notes.push(
    p.perIdTest === true
      ? 'POST /api/truenas/connections/{id}/test exists (2026-03-30+)'
      : p.perIdTest === false
        ? 'POST /api/truenas/connections/{id}/test is absent (405): the body test is used'
        : 'whether POST /api/truenas/connections/{id}/test exists could not be told',
  );
  notes.push(`TrueNAS feature flag is ${p.connections === 'enabled' ? 'on' : 'off (404 truenas_disabled)'}`);

  return {
    resourcesPath,
    perIdTest: p.perIdTest,
    truenasEnabled: p.connections === 'enabled',
    line,
    authRequired,
    auth,
    notes,
  };
}
