import { callInfoKey, createCallContext } from '../interceptors/call-context.js';
import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import type { AuditLog } from '../domain/audit.js';
import type { AuthFlows } from '../domain/auth/auth-flows.js';
import type { SecondFactorServices } from '../domain/factors/factor-services.js';
import type { Tokens } from '../domain/tokens.js';
import { account, confirmTotp, registerPasskey, startTotp } from './account.js';
import { passkeyScriptFile } from './assets.js';
import { authorize } from './authorize.js';
import type { FrontChannel } from './context.js';
import { createCsrf } from './csrf.js';
import { createHeldSignIns } from './held-sign-in.js';
import { BadRequest, pageHeaders, sendHtml, type Req, type Res } from './http.js';
import { login, loginPage } from './login.js';
import { logout } from './logout.js';
import { errorPage, passkeyScriptPath, styleHash } from './pages.js';
import { passkeyOptions, passkeySignIn } from './passkey-sign-in.js';
import { secondStep } from './second-step.js';
import { createSsoSessions } from './sso-session.js';

type Handler = (d: FrontChannel, req: Req, res: Res) => Promise<void> | void;

/** What the front channel is built from (server/deps.ts builds it once). */
export interface OidcRoutesDeps {
  config: Pick<Config, 'issuer' | 'audience' | 'refreshTtl' | 'allowRegistration' | 'trustProxy'>;
  ds: DataSource;
  flows: AuthFlows;
  tokens: Tokens;
  audit: AuditLog;
  mfa: SecondFactorServices;
}

/** The front channel: the pages and redirects a browser goes through, by path and method. */
const routes: Record<string, Partial<Record<string, Handler>>> = {
  '/oidc/authorize': { GET: authorize, POST: authorize },
  '/oidc/login': { GET: loginPage, POST: login },
  '/oidc/mfa': { POST: secondStep },
  '/oidc/passkey': { POST: passkeySignIn },
  '/oidc/passkey/options': { POST: passkeyOptions },
  '/oidc/account': { GET: account },
  '/oidc/account/totp': { POST: startTotp },
  '/oidc/account/totp/confirm': { POST: confirmTotp },
  '/oidc/account/passkey': { POST: registerPasskey },
  [passkeyScriptPath]: { GET: passkeyScriptFile, HEAD: passkeyScriptFile },
  '/oidc/logout': { GET: logout, POST: logout },
};

/**
 * The OpenID Connect provider's browser-facing routes (plain HTTP, outside the RPCs): the
 * authorization endpoint, the hosted sign-in page with its second step and passkeys, the account
 * page, and RP-initiated logout. The token-side endpoints are RPCs. Answers true when the request
 * was one of these paths.
 */
export function createOidcRoutes(deps: OidcRoutesDeps) {
  const { config } = deps;
  const secure = config.issuer.startsWith('https:');
  const callContext = createCallContext(config.trustProxy);
  const d: FrontChannel = {
    db: deps.ds,
    issuer: config.issuer,
    flows: deps.flows,
    tokens: deps.tokens,
    audit: deps.audit,
    allowRegistration: config.allowRegistration,
    sessions: createSsoSessions({ db: deps.ds, audience: config.audience, ttlSeconds: config.refreshTtl, secure }),
    csrf: createCsrf({ issuer: config.issuer, secure }),
    mfa: deps.mfa,
    held: createHeldSignIns({ secure }),
    clientOf: (req) => {
      const { ip, userAgent } = callContext(req).get(callInfoKey);
      return { ip, userAgent };
    },
  };
  return async (req: Req, res: Res): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) return false;
    const handler = route[req.method ?? 'GET'];
    const page = (status: number, message: string, headers: Record<string, string> = {}) =>
      sendHtml(res, status, errorPage('Request refused', message), { ...pageHeaders(styleHash), ...headers });
    if (!handler) {
      page(405, `${req.method} is not allowed here.`, { allow: Object.keys(route).join(', ') });
      return true;
    }
    try {
      await handler(d, req, res);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      page(e.status, e.message);
    }
    return true;
  };
}
