/**
 * The fake TrueNAS's JSON-RPC 2.0 transport: a websocket at `/api/current`, as TrueNAS SCALE 25.04+ serves
 * it and Pulse's main line dials it. The handshake never looks at credentials (middleware authenticates
 * in-band, with `auth.login_*`), so a wrong key gets a websocket and then a refused login.
 *
 * Faults (FakeFault), for a fault whose `paths` are unset or name `/api/current` or the method:
 * - `status`: a new handshake is refused with that HTTP status; a call on an open connection answers a
 *   middleware CallError instead (EACCES "Not authorized" for 401/403, else EFAULT "Injected fault"),
 *   so a client that keeps its connection across polls (Pulse does) sees the fault too;
 * - `delayMs`: the handshake, and each answer, comes that much later;
 * - `reset`: a handshake is dropped before its answer; a call drops its connection instead of answering.
 * `down` is the listener's (fake-truenas.ts): it also closes the open websockets.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeFault } from './fake-truenas.js';
import {
  callError,
  refusedLogin,
  RpcFailure,
  RPC_ERROR,
  type RpcErrorBody,
  type RpcSession,
  type TrueNASMethods,
} from './fake-truenas-methods.js';

export const RPC_PATH = '/api/current';

export interface RpcHost {
  methods: TrueNASMethods;
  /** The fault in force for any of these targets (a path or a method name), or null. */
  faultFor(targets: string[]): FakeFault | null;
  /** RPC calls are logged as method "RPC", path = the JSON-RPC method name. */
  log(entry: { method: string; path: string; status: number }): void;
}

interface Request {
  id?: unknown;
  method: string;
  params: unknown[];
}

/** Run now, or after the fault's delay. */
export function afterFaultDelay(fault: FakeFault | null, run: () => void): void {
  if (fault?.delayMs) setTimeout(run, fault.delayMs);
  else run();
}

export function serveJsonRpc(server: Server | HttpsServer, host: RpcHost): void {
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node drops its own error listener from an upgraded socket: a client that resets while a delayMs fault
    // holds its handshake would otherwise crash the process.
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?')[0];
    if (path !== RPC_PATH) return refuseHandshake(host, socket, path, 404, JSON.stringify({ message: 'Not found' }));
    const fault = host.faultFor([RPC_PATH]);
    afterFaultDelay(fault, () => {
      if (fault?.reset) return socket.destroy();
      if (fault?.status)
        return refuseHandshake(host, socket, path, fault.status, fault.body ?? JSON.stringify({ message: 'Injected fault' }));
      wss.handleUpgrade(req, socket, head, (ws) => {
        host.log({ method: 'GET', path, status: 101 });
        converse(ws, host);
      });
    });
  });
}

/** Answer an upgrade request with a plain HTTP status: the client's handshake fails with it. */
function refuseHandshake(host: RpcHost, socket: Duplex, path: string, status: number, body: string): void {
  host.log({ method: 'GET', path, status });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function converse(ws: WebSocket, host: RpcHost): void {
  const queued: Array<{ method: string; params: unknown }> = [];
  const session: RpcSession = { authenticated: false, notify: (method, params) => queued.push({ method, params }) };
  const send = (message: Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ jsonrpc: '2.0', ...message }));
  };

  ws.on('error', () => {}); // a client gone mid-frame is its problem, not the fake's
  ws.on('message', (data, isBinary) => {
    // Middleware closes the connection on a binary frame (WSCloseCode.UNSUPPORTED_DATA).
    if (isBinary) return ws.close(1003, 'Invalid websocket message type');
    const request = parseRequest(data.toString());
    if ('error' in request) {
      if (request.id !== undefined) send({ id: request.id, error: request.error });
      return;
    }

    const fault = host.faultFor([RPC_PATH, request.method]);
    afterFaultDelay(fault, () => {
      if (fault?.reset) return ws.terminate();
      const answer = fault?.status ? injectedError(fault.status) : host.methods.call(request.method, request.params, session);
      const status = answer instanceof RpcFailure ? answer.error.code : refusedLogin(request.method, answer) ? 401 : 200;
      host.log({ method: 'RPC', path: request.method, status });
      // A request without an id is a notification: middleware runs it and answers nothing.
      if (request.id !== undefined) {
        send(answer instanceof RpcFailure ? { id: request.id, error: answer.error } : { id: request.id, result: answer ?? null });
      }
      for (const { method, params } of queued.splice(0)) send({ method, params });
    });
  });
}

/**
 * Parse and validate one message as middleware does (RpcWebSocketHandler.validate_message): unparsable
 * JSON is answered with id null, an invalid request only when it has an id.
 */
function parseRequest(text: string): Request | { id: unknown; error: RpcErrorBody } {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (err) {
    return { id: null, error: { code: RPC_ERROR.INVALID_JSON, message: (err as Error).message } };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { id: null, error: { code: RPC_ERROR.INVALID_JSON, message: 'Message is not a JSON object' } };
  }
  const { jsonrpc, id, method, params = [] } = message as Record<string, unknown>;
  const invalid = (why: string) => ({ id, error: { code: RPC_ERROR.INVALID_REQUEST, message: why } });
  if (jsonrpc !== '2.0') return invalid("'jsonrpc' member must be of type string and must be exactly '2.0'");
  if (typeof method !== 'string' || method === '') return invalid("'method' member must be of type string");
  if (!Array.isArray(params)) return invalid("'params' member must be of type array");
  return { id, method, params };
}

function injectedError(status: number): RpcFailure {
  return status === 401 || status === 403 ? callError('EACCES', 'Not authorized') : callError('EFAULT', `Injected fault (HTTP ${status})`);
}
