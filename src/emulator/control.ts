/**
 * The emulator's control API under `/__emulator/` on the main port. It exists only in the emulator
 * (real Pulse has no such routes), is never behind auth, is not logged in the request log and is not
 * counted in the HTTP metrics.
 *   GET    /__emulator/requests[?since=<seq>]  request log: seq, time, method, path, query, status,
 *                                              durationMs, auth scheme, fault — never header values
 *   DELETE /__emulator/requests                clear the log
 *   GET    /__emulator/faults                  active fault rules
 *   POST   /__emulator/faults                  add rules (a JSON list, or one rule object)
 *   DELETE /__emulator/faults                  remove all rules
 *   POST   /__emulator/tick                    run sync+poll now (no-op when the flag is off)
 *   GET    /__emulator/state                   profile, flag, tick, providers, auth summary
 */
import type { IncomingMessage } from 'node:http';
import { FaultRulesSchema, type FaultInjector } from './faults.js';
import { goDecode } from './go-json.js';
import { jsonReply, methodNotAllowed, notFound, readBody, type Reply } from './reply.js';

export const CONTROL_PREFIX = '/__emulator/';

export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  path: string;
  query: string;
  status: number;
  durationMs: number;
  /** Which credential kind was sent (never its value). */
  auth: 'x-api-token' | 'bearer' | 'basic' | 'none' | 'other';
  fault: boolean;
}

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(private readonly max = 5000) {}

  add(entry: Omit<RequestLogEntry, 'seq'>): void {
    this.seq += 1;
    this.entries.push({ seq: this.seq, ...entry });
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
  }

  since(seq: number): RequestLogEntry[] {
    return this.entries.filter((e) => e.seq > seq);
  }

  clear(): void {
    this.entries = [];
  }
}

export function authScheme(req: IncomingMessage): RequestLogEntry['auth'] {
  if (req.headers['x-api-token'] !== undefined) return 'x-api-token';
  const authz = req.headers.authorization;
  if (!authz) return 'none';
  const scheme = authz.split(' ')[0].toLowerCase();
  return scheme === 'bearer' ? 'bearer' : scheme === 'basic' ? 'basic' : 'other';
}

export interface ControlDeps {
  log: RequestLog;
  faults: FaultInjector;
  tick: () => Promise<unknown>;
  state: () => Record<string, unknown>;
}

export async function handleControl(req: IncomingMessage, path: string, query: URLSearchParams, deps: ControlDeps): Promise<Reply> {
  const method = req.method ?? 'GET';
  const name = path.slice(CONTROL_PREFIX.length).replace(/\/+$/, '');
  switch (name) {
    case 'requests':
      if (method === 'GET') return jsonReply(200, { requests: deps.log.since(Number(query.get('since') ?? 0) || 0) });
      if (method === 'DELETE') {
        deps.log.clear();
        return jsonReply(200, { cleared: true });
      }
      return methodNotAllowed();
    case 'faults':
      if (method === 'GET') return jsonReply(200, { faults: deps.faults.list() });
      if (method === 'DELETE') {
        deps.faults.clear();
        return jsonReply(200, { cleared: true });
      }
      if (method === 'POST') return addFaults(req, deps.faults);
      return methodNotAllowed();
    case 'tick':
      if (method !== 'POST') return methodNotAllowed();
      await deps.tick();
      return jsonReply(200, deps.state());
    case 'state':
      return method === 'GET' ? jsonReply(200, deps.state()) : methodNotAllowed();
    default:
      return notFound();
  }
}

async function addFaults(req: IncomingMessage, faults: FaultInjector): Promise<Reply> {
  const body = await readBody(req, 1024 * 1024);
  const parsed = goDecode(body.text);
  if (!parsed.ok) return jsonReply(400, { error: `fault rules must be JSON: ${parsed.error}` });
  const input = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  const rules = FaultRulesSchema.safeParse(input);
  if (!rules.success) {
    const issue = rules.error.issues[0];
    return jsonReply(400, { error: `invalid fault rule at ${issue.path.join('.') || '(root)'}: ${issue.message}` });
  }
  faults.add(rules.data);
  return jsonReply(200, { faults: faults.list() });
}
