/**
 * Fault injection for the emulated Pulse API (emulator only; real Pulse has nothing like it).
 * A rule matches by method (optional, case-insensitive) and path: a glob when it contains `*`
 * (`*` matches any run of characters, including `/`), otherwise a prefix. The first matching rule
 * applies: it waits `delayMs`, then either answers with `status`/`body`, drops the connection
 * (`reset`), or lets the real handler answer (delay only). `times` limits how many requests it
 * applies to; an exhausted rule is removed.
 */
import { z } from 'zod';
import { jsonReply, type Reply } from './reply.js';

export const FaultRuleSchema = z
  .object({
    method: z.string().min(1, 'method must be an HTTP method such as GET').optional(),
    path: z.string().startsWith('/', 'path must start with "/", e.g. "/api/truenas/connections/*"'),
    status: z.number().int().min(100).max(599).optional(),
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    reset: z.boolean().optional(),
    times: z.number().int().positive('times must be a positive count of requests').optional(),
  })
  .strict();

export type FaultRule = z.infer<typeof FaultRuleSchema>;
export const FaultRulesSchema = z.array(FaultRuleSchema);

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
  matcher: (path: string) => boolean;
}

function compile(pattern: string): (path: string) => boolean {
  if (!pattern.includes('*')) return (path) => path.startsWith(pattern);
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return (path) => re.test(path);
}

/** Status texts for a fault without a body; 401 mimics Pulse's auth middleware body. */
function defaultReply(status: number): Reply {
  if (status === 401) {
    return { status, headers: { 'Content-Type': 'application/json' }, body: '{"error":"Authentication required"}' };
  }
  const text = STATUS_TEXT[status] ?? 'Injected fault';
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `${text}\n` };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export type FaultDecision = { delayMs: number; reply?: Reply; rule: FaultRule } | undefined;

export class FaultInjector {
  private rules: ActiveRule[] = [];

  add(rules: FaultRule[]): void {
    for (const rule of rules) {
      this.rules.push({ rule, remaining: rule.times ?? Infinity, matcher: compile(rule.path) });
    }
  }

  clear(): void {
    this.rules = [];
  }

  list(): Array<FaultRule & { remaining: number | null }> {
    return this.rules.map((r) => ({ ...r.rule, remaining: Number.isFinite(r.remaining) ? r.remaining : null }));
  }

  /** Consumes one use of the first matching rule and says what to do with the request. */
  decide(method: string, path: string): FaultDecision {
    const active = this.rules.find((r) => (!r.rule.method || r.rule.method.toUpperCase() === method.toUpperCase()) && r.matcher(path));
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) this.rules = this.rules.filter((r) => r !== active);
    const { rule } = active;
    let reply: Reply | undefined;
    if (rule.reset) reply = { status: 0, headers: {}, body: '', reset: true };
    else if (rule.status !== undefined) {
      if (rule.body === undefined) reply = defaultReply(rule.status);
      else if (typeof rule.body === 'string')
        reply = { status: rule.status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: rule.body };
      else reply = jsonReply(rule.status, rule.body);
      reply.headers = { ...reply.headers, ...(rule.headers ?? {}) };
    }
    return { delayMs: rule.delayMs ?? 0, reply, rule };
  }
}
