/**
 * The JSON-RPC methods of the fake TrueNAS: the ones Pulse's main line (6.1+, internal/truenas/client.go)
 * calls in a connection test (`auth.*`, `system.info`) and in a poll (`Client.FetchSnapshot`), answered the
 * way TrueNAS SCALE 25.10 middleware answers them (shapes and error codes from middlewared's
 * api/base/server/ws_handler/rpc.py, plugins/auth.py and service/core_service.py).
 *
 * Any other method answers -32601 "Method does not exist". That includes `boot.get_state`: Pulse treats it
 * as best-effort, and leaving it out keeps the pools Pulse sees over JSON-RPC the same as over REST, where
 * the fake has no `/boot/get_state` either.
 */
import { randomUUID } from 'node:crypto';
import { GIB, type FakeInventory } from './fake-truenas-inventory.js';

/** JSON-RPC 2.0 error codes, plus the two TrueNAS adds (truenas_api_client/jsonrpc.py). */
export const RPC_ERROR = {
  INVALID_JSON: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  CALL_ERROR: -32001,
} as const;

export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

/** A method's error answer (a handler returns it instead of a result). */
export class RpcFailure {
  constructor(readonly error: RpcErrorBody) {}
}

// errno values as middleware reports them: Linux's, and ENOTAUTHENTICATED from truenas_api_client/exc.py.
const ERRNO = { EACCES: 13, EFAULT: 14, EINVAL: 22, ENOTAUTHENTICATED: 207 } as const;

/** A middleware CallError: code -32001, `data.reason` "[ERRNAME] message" (service_exception.py). */
export function callError(errname: keyof typeof ERRNO, message: string, code: number = RPC_ERROR.CALL_ERROR): RpcFailure {
  const reason = `[${errname}] ${message}`;
  return new RpcFailure({
    code,
    message: code === RPC_ERROR.INVALID_PARAMS ? 'Invalid params' : 'Method call error',
    data: { error: ERRNO[errname], errname, reason, trace: null, extra: null },
  });
}

export interface RpcCredentials {
  apiKey: string;
  /** The API key's owner, which `auth.login_ex` API_KEY_PLAIN must name. */
  apiKeyUser: string;
  username?: string;
  password?: string;
}

/** One websocket connection as the methods see it. */
export interface RpcSession {
  authenticated: boolean;
  /** Queue a notification; the transport sends it after the answer of the current call. */
  notify(method: string, params: unknown): void;
}

type Handler = (params: unknown[], session: RpcSession) => unknown;

const empty = () => [];
// Methods callable before logging in; everything else answers ENOTAUTHENTICATED (middlewared main.py).
const PUBLIC = new Set(['auth.login_with_api_key', 'auth.login_ex']);

export interface TrueNASMethods {
  call(name: string, params: unknown[], session: RpcSession): unknown;
}

export function trueNASMethods(inventory: FakeInventory, credentials: RpcCredentials): TrueNASMethods {
  const handlers: Record<string, Handler> = {
    // Real middleware also waits 1-2 s before refusing an unknown key; the fake answers at once.
    'auth.login_with_api_key': ([key], session) => {
      if (key === credentials.apiKey) session.authenticated = true;
      return key === credentials.apiKey;
    },
    'auth.login_ex': ([login], session) => loginEx(login, credentials, session),

    'system.info': () => inventory.systemInfo(),
    'pool.query': () => inventory.pools(),
    'pool.dataset.query': () => inventory.datasets(),
    // disk.query names a disk's pool only when asked with {extra: {pools: true}}, as Pulse's poll does.
    'disk.query': ([, options]) => (wantsPools(options) ? inventory.disks() : inventory.disks().map(({ pool: _pool, ...disk }) => disk)),
    'alert.list': () => inventory.alerts(),

    // The rest of a poll is best-effort for Pulse; a NAS with nothing of the kind answers empty.
    'service.query': empty,
    'app.query': empty,
    'vm.query': empty,
    'sharing.smb.query': empty,
    'sharing.nfs.query': empty,
    'zfs.resource.snapshot.query': empty,
    'replication.query': empty,
    'disk.temperature_agg': () => ({}),
    'reporting.get_data': ([graphs, query]) => reportingNoData(graphs, query),
    'core.subscribe': ([name], session) => subscribe(String(name), session),
    'core.unsubscribe': () => null,
  };

  return {
    call(name, params, session) {
      const handler = handlers[name];
      if (!handler) return new RpcFailure({ code: RPC_ERROR.METHOD_NOT_FOUND, message: 'Method does not exist' });
      if (!session.authenticated && !PUBLIC.has(name)) return callError('ENOTAUTHENTICATED', 'Not authenticated');
      return handler(params, session);
    },
  };
}

/** True when a login method's answer is a refusal (false, or a response_type other than SUCCESS). */
export function refusedLogin(name: string, result: unknown): boolean {
  if (!name.startsWith('auth.login')) return false;
  if (typeof result === 'object' && result !== null) return (result as { response_type?: unknown }).response_type !== 'SUCCESS';
  return result !== true;
}

function loginEx(login: unknown, credentials: RpcCredentials, session: RpcSession): unknown {
  const data = (typeof login === 'object' && login !== null ? login : {}) as Record<string, unknown>;
  let ok: boolean;
  if (data.mechanism === 'API_KEY_PLAIN') {
    ok = data.api_key === credentials.apiKey && data.username === credentials.apiKeyUser;
  } else if (data.mechanism === 'PASSWORD_PLAIN') {
    ok =
      !!credentials.username && !!credentials.password && data.username === credentials.username && data.password === credentials.password;
  } else {
    return callError(
      'EINVAL',
      `login_ex.mechanism: ${String(data.mechanism)} is not modelled by the fake TrueNAS`,
      RPC_ERROR.INVALID_PARAMS,
    );
  }
  if (!ok) return { response_type: 'AUTH_ERR' }; // PAM_AUTH_ERR and PAM_USER_UNKNOWN both squash to this
  session.authenticated = true;
  return { response_type: 'SUCCESS', user_info: null, authenticator: 'LEVEL_1' };
}

function wantsPools(options: unknown): boolean {
  const extra = (options as { extra?: { pools?: unknown } } | undefined)?.extra;
  return extra?.pools === true;
}

/** One entry per requested graph, with no samples: the fake keeps no metric history. */
function reportingNoData(graphs: unknown, query: unknown): unknown[] {
  const { start = 0, end = 0 } = (query ?? {}) as { start?: number; end?: number };
  return (Array.isArray(graphs) ? graphs : []).map((graph: { name?: unknown; identifier?: unknown }) => ({
    name: graph?.name ?? null,
    identifier: graph?.identifier ?? null,
    data: [],
    start,
    end,
    legend: [],
    aggregations: { min: {}, mean: {}, max: {} },
  }));
}

/**
 * The event sources a poll subscribes to send their first event right after the subscription, as
 * middleware's do (reporting/events.py sends, then sleeps its interval). Pulse waits for that one event,
 * so a subscription that never sent would stall its poll. One event per subscription is all the fake sends.
 * Other names are accepted without events, as middleware does for a name with no event source.
 */
function subscribe(name: string, session: RpcSession): string {
  const fields = name.startsWith('reporting.realtime')
    ? { cpu: { usage: 2.5 }, memory: { physical_memory_total: 16 * GIB, physical_memory_available: 12 * GIB } }
    : name.startsWith('app.stats')
      ? [] // no apps
      : undefined;
  if (fields !== undefined) session.notify('collection_update', { msg: 'added', collection: name, fields });
  return randomUUID();
}
