/**
 * The codec server (issue 6): the Temporal codec-server protocol over node:http, so the Web UI and
 * `temporal workflow show --codec-endpoint` can show decrypted payloads while the server only ever stores ciphertext.
 *
 *   POST /decode, POST /encode (also /{namespace}/decode and /{namespace}/encode, the CLI's endpoint templating)
 *   body and answer: {"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}  (proto3 JSON)
 *
 * Who may call it:
 * - Browsers: only the configured origins get CORS headers; any other Origin is refused (403, no CORS headers), so
 *   a page on another site cannot use a logged-in operator's browser to decrypt history.
 * - With a bearer token configured, every POST must carry `Authorization: Bearer <token>` (preflights never do,
 *   browsers send them without credentials).
 * - With namespaces configured, an X-Namespace header (or namespace path segment) outside the list is refused.
 * Requests without an Origin header (the Temporal CLI, curl) are not browser requests and need no CORS; the bearer
 * token and the network are what protect the server from them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { CodecError } from './codec.js';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Exact origins (scheme://host:port) that browsers may call from, e.g. the Web UI's. */
  allowedOrigins: string[];
  /** Interface to listen on; 127.0.0.1 unless told (0.0.0.0 inside a container). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** When set, POSTs need `Authorization: Bearer <token>`. The value, resolved by the caller from a reference. */
  bearerToken?: string;
  /** When non-empty, only these namespaces may be named by X-Namespace or the path. */
  namespaces?: string[];
  /** Larger bodies get 413. Default 16 MiB (a whole history's payloads can be sent at once). */
  maxBodyBytes?: number;
  /** Where errors are reported (never payloads, never the token). */
  log?: (line: string) => void;
}

export interface CodecServer {
  /** Base URL, the value for --ui-codec-endpoint / TEMPORAL_CODEC_ENDPOINT. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The origins of a local Web UI on `uiPort`: the UI's origin is whichever host name was typed, so both. */
export function localUiOrigins(uiPort: number): string[] {
  return [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`];
}

const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';
const ALLOWED_METHODS = 'POST, OPTIONS';
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

const JsonPayloadSchema = z
  .object({
    metadata: z.record(z.string(), z.string()).nullish(),
    data: z.string().nullish(),
  })
  .loose();
const BodySchema = z.object({ payloads: z.array(JsonPayloadSchema) });
type JsonPayload = z.infer<typeof JsonPayloadSchema>;

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Compares digests, so neither the length nor a prefix of the token leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function route(pathname: string): { op: 'encode' | 'decode'; namespace?: string } | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const op = parts.at(-1);
  if ((op !== 'encode' && op !== 'decode') || parts.length > 2) return undefined;
  return { op, namespace: parts.length === 2 ? parts[0] : undefined };
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const origins = new Set(opts.allowedOrigins.map((o) => o.replace(/\/+$/, '')));
  const namespaces = new Set(opts.namespaces ?? []);
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const log = opts.log ?? (() => undefined);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    const cors: Record<string, string> = {};
    if (origin !== undefined) {
      if (!origins.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed to use this codec server`);
      Object.assign(cors, { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' });
    }
    // From here on, errors carry the CORS headers, so the allowed UI can read why it was refused.
    try {
      const url = new URL(req.url ?? '/', 'http://codec.invalid');
      const target = route(url.pathname);
      if (!target) throw new HttpError(404, 'unknown path: use POST /decode or /encode (or /{namespace}/decode)');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          ...cors,
          'Access-Control-Allow-Methods': ALLOWED_METHODS,
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': '600',
          Allow: ALLOWED_METHODS,
        });
        res.end();
        return;
      }
      if (req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed: use POST`, { Allow: ALLOWED_METHODS });
      if (opts.bearerToken !== undefined) {
        const auth = req.headers.authorization ?? '';
        const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
        if (!match || !sameSecret(match[1], opts.bearerToken)) {
          throw new HttpError(401, 'a valid bearer token is required (Authorization: Bearer <token>)', { 'WWW-Authenticate': 'Bearer' });
        }
      }
      const headerNs = req.headers['x-namespace'];
      for (const ns of [typeof headerNs === 'string' ? headerNs : undefined, target.namespace]) {
        if (ns !== undefined && namespaces.size > 0 && !namespaces.has(ns)) {
          throw new HttpError(403, `namespace ${ns} is not served by this codec server (it serves: ${[...namespaces].join(', ')})`);
        }
      }
      let json: unknown;
      try {
        json = JSON.parse(await readBody(req, limit));
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(400, 'the body is not JSON: send {"payloads":[{"metadata":{...},"data":"<base64>"}]}');
      }
      const parsed = BodySchema.safeParse(json);
      if (!parsed.success) throw new HttpError(400, 'the body must be {"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}');
      const input = parsed.data.payloads.map(fromJson);
      let output: Payload[];
      try {
        output = target.op === 'decode' ? await opts.codec.decode(input) : await opts.codec.encode(input);
      } catch (err) {
        if (err instanceof CodecError) throw new HttpError(400, err.message);
        throw err;
      }
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ payloads: output.map(toJson) }));
    } catch (err) {
      if (err instanceof HttpError) throw new HttpError(err.status, err.message, { ...cors, ...err.headers });
      throw err;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const known = err instanceof HttpError;
      if (!known) log(`codec server: ${req.method} ${req.url}: ${(err as Error).message}`);
      const status = known ? err.status : 500;
      const message = known ? err.message : 'internal error';
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A refused request may still have a body in flight; closing avoids reading it.
      res.writeHead(status, { ...(known ? err.headers : {}), 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ error: message }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const hostForUrl = address.includes(':') ? `[${address}]` : address === '0.0.0.0' ? '127.0.0.1' : address;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
