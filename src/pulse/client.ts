/**
 * The typed Pulse client for the parts of Pulse the TrueNAS runbook uses (pulse-api.md §1-§3). It works
 * against the Feb development line and the v6 releases by asking the server what it offers
 * (detectCapabilities) and by falling back where a route moved (resources). It does not retry: retries
 * belong to the Temporal activity, which decides on the error's `type` and `retryable`.
 */
import { randomUUID } from 'node:crypto';
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { PulseTargetSchema, type PulseTarget } from '../config/pulse-target.js';
import type { Action } from '../runbook/evidence.js';
import { redact } from '../runbook/redact.js';
import { lineFromResources, type LineEvidence } from './line.js';
import { interpretCapabilities, perIdTestFrom, resourcesShapeFrom, type CapabilityProbes } from './capabilities.js';
import { PulseValidationError, protocolError, type TokenSourceHint } from './errors.js';
import { prepareNewConnection, prepareOverrides } from './input.js';
import { PULSE_PATHS, assertConnectionId, connectionPath, connectionTestPath, truenasResourcesPath, type ResourcesPath } from './paths.js';
import * as plans from './plan.js';
import { readPulseToken } from './token.js';
import { PulseTransport, type HttpMethod, type PulseAnswer } from './transport.js';
import {
  ResourcePageSchema,
  SecurityStatusSchema,
  SuccessSchema,
  TrueNASConnectionListSchema,
  TrueNASConnectionSchema,
  type PulseCapabilities,
  type SecurityStatus,
  type TrueNASConnection,
  type UnifiedResource,
} from './types.js';

export interface PulseClientOptions {
  /** Environment to read `token.env` from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** undici dispatcher (connection pool) shared with the caller, who then closes it. By default the client
   *  owns a pool of its own, released by close(). */
  dispatcher?: Dispatcher;
}

export interface AddedConnection {
  connection: TrueNASConnection;
  status: number;
  /** Translations applied to the body (api_key → apiKey, enabled defaulted), for evidence. */
  notes: string[];
}

export interface DeleteOutcome {
  id: string;
  /** 'already-gone' when Pulse answered 404 truenas_not_found: deleting is then done, not failed. */
  outcome: 'deleted' | 'already-gone';
  status: number;
}

export interface ConnectionTestResult {
  success: boolean;
  status: number;
  notes: string[];
}

export interface StateRefresh {
  /** Whether GET /api/state answered 2xx (the frontend state was built, so v6's resource store is current). */
  refreshed: boolean;
  status: number;
  note: string;
}

export interface TrueNASResourceListing {
  /** The route that answered. */
  endpoint: ResourcesPath;
  /** The Pulse line that route tells, and how. */
  line: LineEvidence;
  /** The state refresh made before reading, when asked for. */
  refresh?: StateRefresh;
  /** 'legacy' means Feb's `/api/resources` {resources} shape, which never holds TrueNAS records (§3.2, §8.5). */
  shape: 'unified' | 'legacy';
  resources: UnifiedResource[];
  /** Pages fetched from `endpoint`. */
  pages: number;
  /** How the answer was obtained (fallbacks, deprecation header, filtered records). */
  notes: string[];
}

/** A runaway `meta.totalPages` must not turn into an endless loop. */
const MAX_PAGES = 1000;

export class PulseClient {
  private constructor(
    readonly target: PulseTarget,
    private readonly http: PulseTransport,
    /** The pool this client created, closed by close(); undefined when the caller passed a dispatcher. */
    private readonly ownPool?: Agent,
  ) {}

  /** Reads the token the target points at (env var or file) and prepares the client; sends nothing. */
  static async create(target: PulseTarget, options: PulseClientOptions = {}): Promise<PulseClient> {
    const parsed = PulseTargetSchema.safeParse(target);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'target'}: ${i.message}`);
      throw new PulseValidationError(`The Pulse target is invalid: ${problems.join('; ')}`, {
        method: 'CONFIG',
        path: 'target',
        code: 'invalid_target',
        details: { issues: problems },
      });
    }
    const t = parsed.data;
    const token = await readPulseToken(t.token, options.env);
    const tokenSource: TokenSourceHint | undefined = t.token ? { env: t.token.env, file: t.token.file } : undefined;
    // A pool per client (not undici's global one): activities create a client per call and close it, so no
    // keep-alive socket outlives the activity.
    const ownPool = options.dispatcher ? undefined : new Agent();
    const http = new PulseTransport({
      baseUrl: t.url,
      token,
      tokenSource,
      timeoutMs: t.timeoutMs,
      dispatcher: options.dispatcher ?? ownPool,
    });
    return new PulseClient(t, http, ownPool);
  }

  /** Releases the client's own connection pool. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.ownPool && !this.ownPool.closed && !this.ownPool.destroyed) await this.ownPool.close();
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** Whether a token will be sent. */
  get hasToken(): boolean {
    return this.http.hasToken;
  }

  // --- reads -----------------------------------------------------------------------------------------------------

  /** GET /api/health (public). Any HTTP answer is returned; only "no answer" throws (PulseUnavailableError). */
  async health(): Promise<{ ok: boolean; status: number }> {
    const answer = await this.http.send('GET', PULSE_PATHS.health);
    return { ok: answer.status >= 200 && answer.status < 300, status: answer.status };
  }

  /** GET /api/security/status (public): whether auth is configured. */
  async securityStatus(): Promise<SecurityStatus> {
    const answer = await this.http.sendOk('GET', PULSE_PATHS.securityStatus);
    return this.parse(answer, SecurityStatusSchema, 'a JSON object with hasAuthentication');
  }

  /**
   * GET /api/truenas/connections. The answer must be an ARRAY: with the flag off Pulse answers 404 with an
   * error object (thrown here as PulseDisabledError), which the runbook's `jq '.[].id'` would misread (§8.2).
   */
  async listConnections(): Promise<TrueNASConnection[]> {
    const answer = await this.http.sendOk('GET', PULSE_PATHS.connections);
    if (!Array.isArray(answer.json)) {
      throw protocolError(
        answer.method,
        answer.path,
        answer.status,
        `expected a JSON array of connections, got ${shapeOf(answer)} (the runbook's '.[].id' trap, pulse-api.md §8.2)`,
        this.http.secrets(),
      );
    }
    // Pulse masks secrets itself; masking again keeps a clear key out of evidence if a build ever echoed one.
    return redact(this.parse(answer, TrueNASConnectionListSchema, 'an array of connections'));
  }

  // --- writes ----------------------------------------------------------------------------------------------------

  /** POST /api/truenas/connections with `apiKey` (api_key translated) and `enabled: true` by default (§8.1). */
  async addConnection(input: unknown): Promise<AddedConnection> {
    const path = PULSE_PATHS.connections;
    const prepared = prepareNewConnection(input, 'POST', path);
    const answer = await this.http.sendOk('POST', path, prepared.body, prepared.secrets);
    const connection = redact(this.parse(answer, TrueNASConnectionSchema, 'the created connection', prepared.secrets));
    return { connection, status: answer.status, notes: prepared.notes };
  }

  /**
   * DELETE /api/truenas/connections/{id}. Pulse is not DELETE-idempotent (a second delete gets 404
   * truenas_not_found); that answer means the goal is reached, so it is 'already-gone'. 404 truenas_disabled
   * still throws PulseDisabledError: with the flag off nothing was deleted.
   */
  async deleteConnection(id: string): Promise<DeleteOutcome> {
    const path = connectionPath(assertConnectionId(id, 'DELETE', `${PULSE_PATHS.connections}/${String(id)}`));
    const answer = await this.http.send('DELETE', path);
    if (answer.status === 404 && codeOf(answer) === 'truenas_not_found') {
      return { id, outcome: 'already-gone', status: answer.status };
    }
    if (answer.status < 200 || answer.status > 299) throw this.http.errorFor(answer);
    this.parse(answer, SuccessSchema, '{"success":true,"id":…}');
    return { id, outcome: 'deleted', status: answer.status };
  }

  /** POST /api/truenas/connections/test: Pulse calls the NAS with the given body (§2.3). */
  async testConnection(input: unknown): Promise<ConnectionTestResult> {
    const path = PULSE_PATHS.testConnection;
    const prepared = prepareNewConnection(input, 'POST', path);
    const answer = await this.http.sendOk('POST', path, prepared.body, prepared.secrets);
    const body = this.parse(answer, SuccessSchema, '{"success":true}', prepared.secrets);
    return { success: body.success, status: answer.status, notes: prepared.notes };
  }

  /**
   * POST /api/truenas/connections/{id}/test with the stored secret (v6, 2026-03-30+). On Feb and v6-rel it
   * throws PulseMethodNotAllowed (405); use detectCapabilities().perIdTest to choose beforehand.
   */
  async testConnectionById(id: string, overrides?: unknown): Promise<ConnectionTestResult> {
    const path = connectionTestPath(assertConnectionId(id, 'POST', `${PULSE_PATHS.connections}/${String(id)}/test`));
    const prepared = prepareOverrides(overrides, 'POST', path);
    // No body when there are no overrides: Pulse's handler reads any non-empty body as a full replacement of the
    // stored connection, so `{}` would test an empty host ("truenas host is required").
    const answer = await this.http.sendOk('POST', path, prepared.body, prepared.secrets);
    const body = this.parse(answer, SuccessSchema, '{"success":true}', prepared.secrets);
    return { success: body.success, status: answer.status, notes: prepared.notes };
  }

  // --- resources -------------------------------------------------------------------------------------------------

  /**
   * GET /api/state, as the web UI does when it loads, body discarded. On the v6 line the unified resource store
   * is refreshed only when something builds the frontend state (this route, or a websocket client), so on a
   * headless Pulse `/api/resources` stays as it was at the last build, empty since the start (pulse-api.md §10).
   * Only what a browser would ask: read-only, scope monitoring:read. A missing route or an error answer is
   * reported, not thrown: the resources are then read as they are, and the note says so.
   */
  async refreshState(): Promise<StateRefresh> {
    const answer = await this.http.send('GET', PULSE_PATHS.state);
    const status = answer.status;
    if (status >= 200 && status < 300) {
      return {
        refreshed: true,
        status,
        note: 'refreshed the frontend state first (GET /api/state, as the web UI does), so the resource store is current',
      };
    }
    if (status === 401 || status === 403) throw this.http.errorFor(answer);
    return {
      refreshed: false,
      status,
      note: `GET /api/state answered ${status}: the resources are read without a refresh and may lag behind the poller`,
    };
  }

  /**
   * Every unified resource with a TrueNAS source, all pages. Tries `/api/v2/resources` (Feb) and falls back
   * to `/api/resources` when v2 is absent (v6). If `/api/resources` has Feb's legacy shape there are no
   * TrueNAS records to find (§3.2): the result is empty with shape 'legacy'. Pass `resourcesPath` from
   * detectCapabilities to skip the v2 attempt. The frontend state is refreshed first (refreshState) unless
   * `refresh: false`: without it a headless v6 Pulse lists what it built at its last refresh, not what it polled.
   */
  async listTrueNASResources(opts: { resourcesPath?: ResourcesPath; refresh?: boolean } = {}): Promise<TrueNASResourceListing> {
    const refresh = opts.refresh === false ? undefined : await this.refreshState();
    const listing = await this.readTrueNASResources(opts.resourcesPath);
    if (!refresh) return listing;
    return { ...listing, refresh, notes: [refresh.note, ...listing.notes] };
  }

  private async readTrueNASResources(resourcesPath?: ResourcesPath): Promise<TrueNASResourceListing> {
    const bases: ResourcesPath[] =
      resourcesPath === PULSE_PATHS.resources ? [PULSE_PATHS.resources] : [PULSE_PATHS.resourcesV2, PULSE_PATHS.resources];
    const notes: string[] = [];
    for (const [i, base] of bases.entries()) {
      const isLast = i === bases.length - 1;
      const first = await this.http.send('GET', truenasResourcesPath(base, 1));
      const ok = first.status >= 200 && first.status < 300;
      // A missing route answers 404, or 200 with the web UI's HTML through a catch-all: both mean "not here".
      const routeAbsent = first.status === 404 || (ok && first.json === undefined);
      if (routeAbsent && !isLast) {
        notes.push(`${base} is absent (${first.status}); using ${bases[i + 1]} (v6 moved the unified API there, §8.9)`);
        continue;
      }
      if (!ok) throw this.http.errorFor(first);
      const shape = resourcesShapeFrom(first);
      if (shape === 'legacy') {
        notes.push(`${base} has the legacy {resources} shape, which never lists TrueNAS records (pulse-api.md §3.2, §8.5)`);
        return { endpoint: base, line: lineFromResources(base, 'legacy'), shape: 'legacy', resources: [], pages: 1, notes };
      }
      if (shape !== 'unified') {
        throw protocolError(first.method, first.path, first.status, `expected {data, meta}, got ${shapeOf(first)}`, this.http.secrets());
      }
      if (hasDeprecationHeader(first)) notes.push(`${base} answered with "Deprecation: true" (late-Feb alias of /api/resources)`);
      return this.collectPages(base, first, notes);
    }
    // Not reached: the last path in `bases` either returns or throws above.
    throw new Error('unreachable: the last resources path either answers or throws');
  }

  private async collectPages(base: ResourcesPath, first: PulseAnswer, notes: string[]): Promise<TrueNASResourceListing> {
    const byId = new Map<string, UnifiedResource>();
    let answer = first;
    let page = 1;
    for (;;) {
      const body = this.parse(answer, ResourcePageSchema, 'the {data, meta} resources envelope');
      for (const r of body.data) byId.set(r.id, r);
      const totalPages = body.meta.totalPages;
      if (page >= totalPages || page >= MAX_PAGES || body.data.length === 0) break;
      page += 1;
      answer = await this.http.sendOk('GET', truenasResourcesPath(base, page));
    }
    // The server filters on source=truenas; filtering again guards against a build that ignores the filter.
    const all = [...byId.values()];
    const resources = all.filter(isTrueNASResource);
    if (resources.length !== all.length) {
      notes.push(`${all.length - resources.length} resource(s) without a truenas source were left out`);
    }
    return { endpoint: base, line: lineFromResources(base, 'unified'), shape: 'unified', resources, pages: page, notes };
  }

  // --- capabilities ----------------------------------------------------------------------------------------------

  /**
   * Which Pulse line answers, from at most two read-only GETs (src/pulse/line.ts): `/api/v2/resources` serving the
   * unified envelope is the Feb line; otherwise `/api/resources` tells v6 (unified) from Feb (legacy shape).
   */
  async detectLine(): Promise<LineEvidence> {
    const v2 = await this.probeResources(`${PULSE_PATHS.resourcesV2}?source=truenas&limit=1`);
    if (resourcesShapeFrom(v2) === 'unified') return lineFromResources(PULSE_PATHS.resourcesV2, 'unified');
    const shape = resourcesShapeFrom(await this.probeResources(`${PULSE_PATHS.resources}?source=truenas&limit=1`));
    if (shape === 'absent') return { line: 'unknown', seenFrom: 'neither /api/v2/resources nor /api/resources serving resources' };
    return lineFromResources(PULSE_PATHS.resources, shape);
  }

  /**
   * Asks the server what it offers, without side effects:
   *  1. GET /api/security/status (public): is auth configured?
   *  2. GET /api/truenas/connections: array → flag on; 404 truenas_disabled → flag off. 401/403 throw, since
   *     nothing in the runbook works without access.
   *  3. GET /api/v2/resources?limit=1: served on Feb, absent on v6; if absent, GET /api/resources?limit=1 tells
   *     the unified shape (v6) from the legacy one.
   *  4. POST /api/truenas/connections/<random-uuid>/test with `{}`: on Feb and v6-rel the `{id}` route only
   *     accepts DELETE, so 405; where the per-id test exists (2026-03-30+) the handler looks the id up first
   *     and answers 404 truenas_not_found. A fresh random UUID matches no stored connection, so no NAS is
   *     contacted and nothing is stored.
   */
  async detectCapabilities(): Promise<PulseCapabilities> {
    const securityAnswer = await this.http.send('GET', PULSE_PATHS.securityStatus);
    const security = SecurityStatusSchema.safeParse(securityAnswer.json);
    const securityOk = securityAnswer.status === 200 && security.success;

    const conns = await this.http.send('GET', PULSE_PATHS.connections);
    let connections: CapabilityProbes['connections'];
    if (conns.status === 404 && codeOf(conns) === 'truenas_disabled') connections = 'disabled';
    else if (conns.status >= 200 && conns.status < 300 && Array.isArray(conns.json)) connections = 'enabled';
    else if (conns.status >= 200 && conns.status < 300) {
      throw protocolError(conns.method, conns.path, conns.status, `expected a JSON array, got ${shapeOf(conns)}`, this.http.secrets());
    } else throw this.http.errorFor(conns);

    const v2Answer = await this.probeResources(`${PULSE_PATHS.resourcesV2}?source=truenas&limit=1`);
    const v2Shape = resourcesShapeFrom(v2Answer);
    const v2: CapabilityProbes['v2'] =
      v2Shape === 'unified' ? (hasDeprecationHeader(v2Answer) ? 'deprecated-alias' : 'envelope') : 'absent';
    let resources: CapabilityProbes['resources'];
    if (v2 === 'absent') {
      resources = resourcesShapeFrom(await this.probeResources(`${PULSE_PATHS.resources}?source=truenas&limit=1`));
    }

    const probeId = randomUUID();
    const perIdAnswer = await this.http.send('POST', connectionTestPath(probeId), {});

    return interpretCapabilities({
      security: securityOk ? security.data : undefined,
      connections,
      v2,
      resources,
      perIdTest: perIdTestFrom(perIdAnswer),
    });
  }

  /**
   * Whether the token may change TrueNAS connections (scope settings:write), without changing any: the same
   * POST /api/truenas/connections/<random-uuid>/test with `{}` as detectCapabilities' step 4, which matches no stored
   * connection. 401 and 403 are thrown (PulseAuthError, PulseForbiddenError naming the scope); any other answer
   * means the request got past Pulse's scope check. Used by `pulse-runbook doctor`.
   */
  async probeSettingsWrite(): Promise<{ status: number }> {
    const answer = await this.http.send('POST', connectionTestPath(randomUUID()), {});
    if (answer.status === 401 || answer.status === 403) throw this.http.errorFor(answer);
    return { status: answer.status };
  }

  /** A resources probe: 2xx and 404 are answers; anything else (401, 403, 5xx) is thrown. */
  private async probeResources(path: string): Promise<PulseAnswer> {
    const answer = await this.http.send('GET', path);
    if (answer.status === 404 || (answer.status >= 200 && answer.status < 300)) return answer;
    throw this.http.errorFor(answer);
  }

  // --- plan mode -------------------------------------------------------------------------------------------------

  /** The exact request as an Action (full URL, body redacted), for plan mode and evidence. */
  plan(method: HttpMethod, path: string, body?: unknown, expect?: string): Action {
    return plans.planPulseRequest(this.baseUrl, method, path, body, expect);
  }

  describeHealth(): Action {
    return plans.describeHealth(this.baseUrl);
  }
  describeSecurityStatus(): Action {
    return plans.describeSecurityStatus(this.baseUrl);
  }
  describeListConnections(): Action {
    return plans.describeListConnections(this.baseUrl);
  }
  describeAddConnection(input: unknown): Action {
    return plans.describeAddConnection(this.baseUrl, input);
  }
  describeDeleteConnection(id: string): Action {
    return plans.describeDeleteConnection(this.baseUrl, id);
  }
  describeTestConnection(input: unknown): Action {
    return plans.describeTestConnection(this.baseUrl, input);
  }
  describeTestConnectionById(id: string, overrides?: unknown): Action {
    return plans.describeTestConnectionById(this.baseUrl, id, overrides);
  }
  describeListTrueNASResources(resourcesPath?: ResourcesPath): Action {
    return plans.describeListTrueNASResources(this.baseUrl, resourcesPath);
  }
  describeDetectCapabilities(): Action[] {
    return plans.describeDetectCapabilities(this.baseUrl);
  }

  // --- helpers ---------------------------------------------------------------------------------------------------

  private parse<S extends z.ZodType>(answer: PulseAnswer, schema: S, expected: string, bodySecrets: string[] = []): z.output<S> {
    const result = schema.safeParse(answer.json);
    if (result.success) return result.data;
    const issues = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
      .join('; ');
    throw protocolError(
      answer.method,
      answer.path,
      answer.status,
      `expected ${expected}, got ${shapeOf(answer)} (${issues})`,
      this.http.secrets(bodySecrets),
    );
  }
}

function codeOf(answer: PulseAnswer): string | undefined {
  const code = (answer.json as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function hasDeprecationHeader(answer: PulseAnswer): boolean {
  const h = answer.headers['deprecation'];
  return (Array.isArray(h) ? h[0] : h)?.trim().toLowerCase() === 'true';
}

/** A short description of a body for protocol errors, without echoing its content. */
function shapeOf(answer: PulseAnswer): string {
  const j = answer.json;
  if (j === undefined) return answer.text.trim() ? 'a non-JSON body' : 'an empty body';
  if (Array.isArray(j)) return `an array of ${j.length}`;
  if (j && typeof j === 'object') {
    const keys = Object.keys(j).slice(0, 6);
    return `an object with keys ${keys.join(', ') || '(none)'}`;
  }
  return `a JSON ${typeof j}`;
}

function isTrueNASResource(r: UnifiedResource): boolean {
  return (r.sources ?? []).includes('truenas') || r.sourceStatus?.truenas !== undefined;
}
