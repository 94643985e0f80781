/**
 * The public endpoints a client needs before it has a token: health, security status and the
 * quick-setup flow that turns a bootstrap token into an admin password plus a `*` API token
 * (handleQuickSecuritySetupFixed in Pulse; the harness in tests/integration uses exactly this).
 */
import type { IncomingMessage } from 'node:http';
import { AuthState } from './auth.js';
import { goDecode } from './go-json.js';
import { jsonReply, methodNotAllowed, readBody, textError, type Reply } from './reply.js';

const MIN_PASSWORD_LENGTH = 12;

export function health(startedAt: number): Reply {
  return jsonReply(200, {
    status: 'healthy',
    timestamp: Math.floor(Date.now() / 1000),
    uptime: Math.floor((Date.now() - startedAt) / 1000),
    devModeSSH: false,
  });
}

/**
 * GET /api/security/status: the field set of Pulse's handler (network fields for a loopback client). As in Pulse,
 * `hasAuthentication` is true for API tokens alone too, and the password login's user name and the caller's token
 * scopes are shown only to an authenticated caller.
 */
export function securityStatus(req: IncomingMessage, auth: AuthState): Reply {
  if (req.method !== 'GET') return methodNotAllowed();
  const caller = auth.hasAnyAuth() ? auth.check(req) : undefined;
  const authenticated = caller?.ok === true;
  return jsonReply(200, {
    apiTokenConfigured: auth.tokens.length > 0,
    apiTokenHint: '', // Pulse only hints the legacy single API_TOKEN
    requiresAuth: auth.hasAnyAuth(),
    exportProtected: true,
    unprotectedExportAllowed: false,
    hasAuthentication: auth.user !== '' || auth.passHash !== '' || auth.tokens.length > 0,
    configuredButPendingRestart: false,
    hasAuditLogging: false,
    credentialsEncrypted: true,
    hasHTTPS: false,
    clientIP: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    isPrivateNetwork: true,
    isTrustedNetwork: false,
    publicAccess: false,
    hasProxyAuth: false,
    proxyAuthLogoutURL: '',
    proxyAuthUsername: '',
    proxyAuthIsAdmin: false,
    authUsername: authenticated ? auth.user : '',
    authLastModified: '',
    oidcUsername: '',
    ...(caller?.ok && caller.token && { tokenScopes: caller.token.scopes }),
  });
}

function bootstrapHelp(prefix: string, path: string): string {
  return (
    `${prefix} Retrieve it from the host:\n\n` +
    'Docker: docker exec <container> cat /data/.bootstrap_token\n' +
    'Docker: docker exec <container> /app/pulse bootstrap-token\n' +
    `Bare metal: cat ${path}\n` +
    'Bare metal: pulse bootstrap-token'
  );
}

export async function quickSetup(req: IncomingMessage, auth: AuthState): Promise<Reply> {
  if (req.method !== 'POST') return methodNotAllowed();
  const body = await readBody(req, 1024 * 1024);
  const parsed = goDecode(body.text);
  const payload =
    parsed.ok && parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value)
      ? (parsed.value as Record<string, unknown>)
      : undefined;
  if (!payload) return textError(400, 'Invalid request body');
  const str = (k: string) => (typeof payload[k] === 'string' ? (payload[k] as string) : '');

  if (auth.hasPasswordAuth()) {
    const result = auth.check(req);
    if (!result.ok) {
      return result.written ?? textError(401, 'Authentication required to modify existing security settings');
    }
    if (payload.force !== true) {
      return jsonReply(200, {
        success: true,
        skipped: true,
        message: 'Password authentication is already configured. Please remove existing security first if you want to reconfigure.',
      });
    }
  } else {
    if (auth.bootstrapToken === '') {
      return textError(503, 'Bootstrap token unavailable; restart Pulse or inspect data directory');
    }
    const header = req.headers['x-setup-token'];
    const provided = ((Array.isArray(header) ? header[0] : header) ?? str('setupToken')).trim();
    if (provided === '') return textError(401, bootstrapHelp('Bootstrap setup token required.', auth.bootstrapPath()));
    if (provided !== auth.bootstrapToken) {
      return textError(401, bootstrapHelp('Invalid bootstrap setup token.', auth.bootstrapPath()));
    }
  }

  const [username, password, apiToken] = [str('username'), str('password'), str('apiToken')];
  if (!username || !password || !apiToken) return textError(400, 'Username, password, and API token are required');
  if (password.length < MIN_PASSWORD_LENGTH) {
    return textError(400, `password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  }
  auth.configure(username, password, apiToken);
  return jsonReply(200, {
    success: true,
    method: 'manual',
    deploymentType: 'manual',
    requiresManualRestart: false,
    message: 'Security enabled immediately! Your settings are saved and active.',
  });
}
