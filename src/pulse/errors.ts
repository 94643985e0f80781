/**
 * Typed failures of the Pulse client. Workflows and activities decide on `type` (never on message text);
 * `retryable` says whether trying the same request again can help (an outage can pass, a 400 cannot).
 *
 * Every message names the method, the path, the HTTP status and Pulse's own error text, so an operator can
 * repeat the request by hand. Messages and details are scrubbed of the token and request secrets by the
 * factory functions below, which are the only places that build errors from untrusted text.
 */
import { redact, scrub } from '../runbook/redact.js';

export interface PulseErrorInit {
  status?: number;
  /** Pulse's machine-readable error code (`truenas_disabled`, `validation_error`, …). */
  code?: string;
  method: string;
  path: string;
  /** Pulse's `details` object (e.g. `details.error` for truenas_connection_failed), already scrubbed. */
  details?: Record<string, unknown>;
  requestId?: string;
}

export class PulseError extends Error {
  // `type` and `retryable` are prototype getters, not fields: they are fixed per class, already valid inside
  // the base constructor (which copies `type` into `name`), and cannot be altered on an instance.
  get type(): string {
    return 'PulseError';
  }
  get retryable(): boolean {
    return false;
  }
  readonly status?: number;
  readonly code?: string;
  readonly method: string;
  readonly path: string;
  readonly details?: Record<string, unknown>;
  readonly requestId?: string;

  constructor(message: string, init: PulseErrorInit) {
    super(message);
    this.status = init.status;
    this.code = init.code;
    this.method = init.method;
    this.path = init.path;
    this.details = init.details;
    this.requestId = init.requestId;
    this.name = this.type;
  }

  /** Plain JSON, so the error can travel in Temporal failure details and evidence. */
  toJSON(): Record<string, unknown> {
    return {
      type: this.type,
      message: this.message,
      status: this.status,
      code: this.code,
      retryable: this.retryable,
      method: this.method,
      path: this.path,
      details: this.details,
      requestId: this.requestId,
    };
  }
}

/**
 * The base of each typed failure: PulseError with `type` fixed to the class's name (a prototype getter, like the
 * base's). `class PulseAuthError extends typedPulseError('PulseAuthError') {}`.
 */
function typedPulseError(type: string) {
  return class extends PulseError {
    override get type(): string {
      return type;
    }
  };
}

/** 401: no token was sent although Pulse requires one, or the token was rejected. */
export class PulseAuthError extends typedPulseError('PulseAuthError') {}

export type ForbiddenReason = 'missing_scope' | 'mock_mode_enabled' | 'admin_required' | 'forbidden';

/** 403: the token lacks a scope, Pulse runs in mock mode, or the session user is not the admin. */
export class PulseForbiddenError extends typedPulseError('PulseForbiddenError') {
  readonly reason: ForbiddenReason;
  /** Only for `missing_scope`: the scope the route needs, e.g. `settings:write`. */
  readonly requiredScope?: string;

  constructor(message: string, init: PulseErrorInit & { reason: ForbiddenReason; requiredScope?: string }) {
    super(message, init);
    this.reason = init.reason;
    this.requiredScope = init.requiredScope;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, requiredScope: this.requiredScope };
  }
}

/** 404 `truenas_disabled`: the PULSE_ENABLE_TRUENAS flag is off, so every TrueNAS route answers 404. */
export class PulseDisabledError extends typedPulseError('PulseDisabledError') {}

/** 404 `truenas_not_found` (unknown connection id) or any other 404 (route absent on this Pulse line). */
export class PulseNotFoundError extends typedPulseError('PulseNotFoundError') {}

/** 400: Pulse refused the request body (or the client refused it before sending; then `status` is unset). */
export class PulseValidationError extends typedPulseError('PulseValidationError') {}

/** 405: the route exists but not for this method (e.g. per-id test before 2026-03-30). */
export class PulseMethodNotAllowed extends typedPulseError('PulseMethodNotAllowed') {}

/** Pulse cannot be reached or failed on its side: connection refused, DNS, timeout, reset, 5xx, 429. */
export class PulseUnavailableError extends typedPulseError('PulseUnavailableError') {
  override get retryable(): boolean {
    return true;
  }
  /** What failed underneath: an errno-like code (ECONNREFUSED, ENOTFOUND, ECONNRESET), 'timeout' or 'http'. */
  readonly underlying?: string;

  constructor(message: string, init: PulseErrorInit & { underlying?: string }) {
    super(message, init);
    this.underlying = init.underlying;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), underlying: this.underlying };
  }
}

/** Pulse answered, but not in a shape this client knows (HTML where JSON was due, an object for an array…). */
export class PulseProtocolError extends typedPulseError('PulseProtocolError') {}

/** Any other 4xx (402 licence node limit, 409, 413…): Pulse refused and repeating will not help. */
export class PulseRequestError extends typedPulseError('PulseRequestError') {}

/**
 * The token could not be read (env var unset or empty, file missing, empty or unreadable). It is raised
 * before any request, so `method` is 'TOKEN' and `path` says where the token was looked for
 * (`env:NAME` or the file path). The message never contains the value.
 */
export class PulseTokenError extends typedPulseError('PulseTokenError') {}

/** Where the token came from, for auth error messages: never the value itself. */
export interface TokenSourceHint {
  env?: string;
  file?: string;
}

// --- factories -------------------------------------------------------------------------------------------------

/** Pulse's error envelope fields this module reads (see types.ts for the schema). */
interface EnvelopeLike {
  error?: unknown;
  code?: unknown;
  details?: unknown;
  request_id?: unknown;
  requiredScope?: unknown;
}

/** Masks secret-named fields and scrubs secret values out of every string, at any depth. */
export function scrubDeep<T>(value: T, secrets: Array<string | undefined>): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(redact(value)) as T;
}

function tokenAdvice(hint: TokenSourceHint | undefined, tokenSent: boolean): string {
  if (!tokenSent) {
    return (
      'No Pulse API token was sent, and this Pulse requires one. Set the token by reference in the Pulse target: ' +
      '`token: { env: "PULSE_TOKEN" }` (an environment variable on the worker host) or `token: { file: "/path/to/token" }`.'
    );
  }
  const where = hint?.env ? `the environment variable ${hint.env}` : hint?.file ? `the file ${hint.file}` : 'the configured source';
  return `The Pulse API token from ${where} was rejected (missing or invalid): put a valid token there (an admin token with the scopes the runbook needs, e.g. "*").`;
}

function describeHttp(method: string, path: string, status: number, code: string | undefined, text: string): string {
  const codePart = code ? ` ${code}` : '';
  const textPart = text ? `: ${text}` : '';
  return `${method} ${path} → ${status}${codePart}${textPart}`;
}

export interface ResponseFacts {
  method: string;
  path: string;
  status: number;
  /** Raw response body text. */
  bodyText: string;
  /** The body parsed as JSON, when it was JSON. */
  json?: unknown;
  /** Secret strings (the token, an apiKey or password from the request) to scrub from messages. */
  secrets: Array<string | undefined>;
  tokenSent: boolean;
  tokenSource?: TokenSourceHint;
}

/** Builds the typed error for a non-2xx answer from Pulse. */
export function errorFromResponse(f: ResponseFacts): PulseError {
  const env: EnvelopeLike = f.json && typeof f.json === 'object' && !Array.isArray(f.json) ? (f.json as EnvelopeLike) : {};
  const code = typeof env.code === 'string' && env.code ? env.code : undefined;
  // Router-level answers (405, some 401/403) are plain text; fall back to a short excerpt of it.
  const rawText = typeof env.error === 'string' ? env.error : f.json === undefined ? f.bodyText.trim().slice(0, 300) : '';
  const details =
    env.details && typeof env.details === 'object' && !Array.isArray(env.details)
      ? scrubDeep(env.details as Record<string, unknown>, f.secrets)
      : undefined;
  const detailText = typeof details?.error === 'string' && details.error ? ` (${details.error})` : '';
  const requestId = typeof env.request_id === 'string' ? env.request_id : undefined;
  const base = { status: f.status, code, method: f.method, path: f.path, details, requestId };
  const head = scrub(describeHttp(f.method, f.path, f.status, code, rawText) + detailText, f.secrets);

  switch (true) {
    case f.status === 401:
      return new PulseAuthError(`${head}. ${tokenAdvice(f.tokenSource, f.tokenSent)}`, base);
    case f.status === 403:
      return forbidden(head, base, env, rawText);
    case f.status === 404 && code === 'truenas_disabled':
      return new PulseDisabledError(
        `${head}. The TrueNAS feature flag is off on this Pulse (PULSE_ENABLE_TRUENAS): every TrueNAS route answers 404 until it is enabled and Pulse restarted.`,
        base,
      );
    case f.status === 404:
      return new PulseNotFoundError(head, base);
    case f.status === 400:
      return new PulseValidationError(head, base);
    case f.status === 405:
      return new PulseMethodNotAllowed(`${head}. This Pulse does not offer ${f.method} on this path.`, base);
    case f.status === 429 || f.status >= 500:
      return new PulseUnavailableError(`${head}. Pulse failed on its side; retrying later may help.`, {
        ...base,
        underlying: 'http',
      });
    default:
      return new PulseRequestError(head, base);
  }
}

function forbidden(head: string, base: PulseErrorInit, env: EnvelopeLike, rawText: string): PulseForbiddenError {
  const requiredScope = typeof env.requiredScope === 'string' ? env.requiredScope : undefined;
  if (rawText === 'missing_scope' || base.code === 'missing_scope' || requiredScope) {
    return new PulseForbiddenError(
      `${head}. The token lacks the scope ${requiredScope ?? '(not named)'}: create a token with that scope (or "*").`,
      { ...base, reason: 'missing_scope', requiredScope },
    );
  }
  if (base.code === 'mock_mode_enabled') {
    return new PulseForbiddenError(`${head}. Pulse runs in mock mode (PULSE_MOCK_MODE=true), which refuses to add or delete connections.`, {
      ...base,
      reason: 'mock_mode_enabled',
    });
  }
  if (/admin/i.test(rawText)) {
    return new PulseForbiddenError(`${head}. The caller is not the configured admin user; use an admin API token.`, {
      ...base,
      reason: 'admin_required',
    });
  }
  return new PulseForbiddenError(head, { ...base, reason: 'forbidden' });
}

export interface TransportFacts {
  method: string;
  path: string;
  /** The error thrown by undici (or by the abort signal). */
  error: unknown;
  timeoutMs: number;
  secrets: Array<string | undefined>;
}

const UNDICI_TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Builds the typed error for a request that got no HTTP answer (refused, DNS, reset, timeout). */
export function errorFromTransport(f: TransportFacts): PulseUnavailableError {
  const e = f.error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  const isTimeout = e?.name === 'TimeoutError' || e?.name === 'AbortError' || (code !== undefined && UNDICI_TIMEOUT_CODES.has(code));
  let what: string;
  let underlying: string;
  if (isTimeout) {
    what = `no answer within ${f.timeoutMs} ms (timeout)`;
    underlying = 'timeout';
  } else if (code === 'ECONNREFUSED') {
    what = 'connection refused: is Pulse running and listening on this address?';
    underlying = code;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    what = `the host name does not resolve (${code})`;
    underlying = code;
  } else {
    what = `network error${code ? ` ${code}` : ''}: ${e?.message ?? String(f.error)}`;
    underlying = code ?? 'network';
  }
  return new PulseUnavailableError(scrub(`${f.method} ${f.path} → ${what}`, f.secrets), {
    method: f.method,
    path: f.path,
    underlying,
  });
}

/** A 2xx answer whose body does not have the shape the contract promises. */
export function protocolError(
  method: string,
  path: string,
  status: number,
  problem: string,
  secrets: Array<string | undefined>,
): PulseProtocolError {
  return new PulseProtocolError(scrub(`${method} ${path} → ${status}: ${problem}`, secrets), { status, method, path });
}
