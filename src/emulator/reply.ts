/**
 * Handlers build a `Reply` value instead of writing to the socket, so auth, fault injection, the
 * request log and the HTTP metrics can all see (and, for faults, replace) the final answer.
 * The helpers reproduce Go's response shapes: http.Error text, json.Encoder output and
 * writeErrorResponse's envelope (internal/api/middleware.go).
 */
import type { IncomingMessage } from 'node:http';
import { goEncode } from './go-json.js';
import type { Profile } from './profiles.js';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Destroy the socket instead of answering (fault injection only). */
  reset?: boolean;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: goEncode(value) };
}

/** http.Error(w, msg, code): text/plain, nosniff, message plus newline. */
export function textError(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers },
    body: `${message}\n`,
  };
}

/** The ServeMux answer for an unknown path. */
export const notFound = (): Reply => textError(404, '404 page not found');
export const methodNotAllowed = (): Reply => textError(405, 'Method not allowed');

/** writeErrorResponse: {error, code, status_code, timestamp, details?}; v6 always sends details. */
export function apiError(profile: Profile, status: number, code: string, message: string, details?: Record<string, string>): Reply {
  const body: Record<string, unknown> = {
    error: message,
    code,
    status_code: status,
    timestamp: Math.floor(Date.now() / 1000),
  };
  if (details && Object.keys(details).length > 0) body.details = details;
  else if (profile.detailsAlwaysObject) body.details = {};
  return jsonReply(status, body);
}

export const BODY_LIMIT = 32 * 1024;

export interface RequestBody {
  text: string;
  /** More than the 32 KiB MaxBytesReader limit arrived. */
  tooLarge: boolean;
}

/** Reads the body, keeping at most limit+1 bytes in memory (the rest is drained and dropped). */
export function readBody(req: IncomingMessage, limit = BODY_LIMIT): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size <= limit) chunks.push(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      const all = Buffer.concat(chunks);
      resolve({ text: all.subarray(0, limit).toString('utf8'), tooLarge: size > limit });
    });
    req.on('error', reject);
  });
}
