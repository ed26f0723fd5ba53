import type { DataSource } from 'typeorm';
import { loadKeySecret, PasswordHasher } from '../auth/index.js';
import type { Config } from '../config.js';
import { appIdForAudience } from '../db/repositories/apps.js';
import { AgentKeys } from '../domain/agents/agent-keys.js';
import { AgentLogin } from '../domain/agents/agent-login.js';
import { Agents } from '../domain/agents/agents.js';
import { ApiKeys } from '../domain/apikeys/api-keys.js';
import { authenticateApiKey } from '../domain/apikeys/authenticate.js';
import { AppRegistry } from '../domain/apps/app-registry.js';
import { AppVerifier } from '../domain/apps/verify.js';
import { Audiences } from '../domain/audiences.js';
import { AuditLog } from '../domain/audit.js';
import { AuthFlows } from '../domain/auth/auth-flows.js';
import { CredentialChecker } from '../domain/auth/authenticator.js';
import { LoginGuard } from '../domain/auth/login-guard.js';
import { LegacyUsers } from '../domain/directory/legacy-users.js';
import { Roles } from '../domain/directory/roles.js';
import { DirectoryUsers } from '../domain/directory/users.js';
import { Workspaces } from '../domain/directory/workspaces.js';
import { FactorEnrolment } from '../domain/factors/enrolment.js';
import { FactorAdmin } from '../domain/factors/factor-admin.js';
import { LoginCompletion } from '../domain/factors/login-completion.js';
import { LoginGate } from '../domain/factors/login-gate.js';
import { OwnFactors } from '../domain/factors/own-factors.js';
import { SecondFactors } from '../domain/factors/second-factors.js';
import type { SecondFactorServices } from '../domain/factors/factor-services.js';
import { KeyStore } from '../domain/keys/key-store.js';
import { TokenEndpoint } from '../domain/oauth/token-endpoint.js';
import { CodeExchange } from '../domain/oidc/code-exchange.js';
import { TokenAdmin } from '../domain/oidc/token-admin.js';
import { Tokens } from '../domain/tokens.js';
import type { Logger } from '../logger.js';
import type { ServicesDeps } from '../services/index.js';
import { createMetrics, type Metrics } from './metrics.js';

/**
 * The object graph, built here and nowhere else (the composition root): made once per server,
 * shared by every handler. Each service declares the part it needs (services/index.ts).
 */
export interface Deps extends ServicesDeps {
  config: Config;
  ds: DataSource;
  log: Logger;
  keys: KeyStore;
  tokens: Tokens;
  passwords: PasswordHasher;
  guard: LoginGuard;
  audit: AuditLog;
  audiences: Audiences;
  credentials: CredentialChecker;
  flows: AuthFlows;
  metrics: Metrics;
  /** Second factors: a login's second step, a user's own factors, administrators' resets and policy. */
  mfa: SecondFactorServices;
}

export async function buildDeps(config: Config, ds: DataSource, log: Logger): Promise<Deps> {
  // Silent: a generated development secret is said once at start (default-warnings.ts).
  const secret = loadKeySecret({ configured: config.keySecret, dataDir: config.dataDir, warn: () => {} });
  const keys = new KeyStore(ds, {
    alg: config.jwtAlg,
    secret,
    publishDelay: config.keyPublishDelay,
    retention: Math.max(config.accessTtl, config.refreshTtl) + 60,
  });
  await keys.init();
  const tokens = new Tokens(keys, { issuer: config.issuer, accessTtl: config.accessTtl, refreshTtl: config.refreshTtl });
  const passwords = new PasswordHasher(config.bcryptCost);
  const metrics = createMetrics(ds);
  const audit = new AuditLog(ds, log, metrics.observeAudit);
  const guard = new LoginGuard(ds, {
    maxFailures: config.loginMaxFailures,
    maxFailuresPerIp: config.loginMaxFailuresPerIp,
    lockBase: config.loginLockBase,
    lockMax: config.loginLockMax,
  });
  const audiences = new Audiences(config.audience, config.allowedAudiences, (aud) => appIdForAudience(ds, aud));
  const credentials = new CredentialChecker(ds, tokens, config.audience, (key) => authenticateApiKey(ds, key));
  const gate = new LoginGate(ds);
  const flows = new AuthFlows({ ds, tokens, audit, passwords, guard, audiences, allowRegistration: config.allowRegistration, gate });
  const rp = { id: config.webauthnRpId, name: new URL(config.issuer).host, origins: config.webauthnOrigins };
  const factors = new SecondFactors({ ds, guard, audit, passwords, keySecret: secret, rp });
  const enrolment = new FactorEnrolment({ ds, audit, factors, keySecret: secret, rp, issuerName: rp.name });
  const mfa = {
    completion: new LoginCompletion({ ds, flows, gate, factors, enrolment, audit, rp }),
    own: new OwnFactors({ ds, audit, factors, enrolment }),
    admin: new FactorAdmin(ds, audit),
  };
  // What the RPC handlers call.
  const services = {
    directoryUsers: new DirectoryUsers(ds, passwords, audit, guard),
    legacyUsers: new LegacyUsers(ds, passwords, audit, guard),
    workspaces: new Workspaces(ds),
    roles: new Roles(ds),
    agents: new Agents(ds),
    agentKeys: new AgentKeys(ds),
    agentLogin: new AgentLogin({ ds, tokens, audiences, audit, issuer: config.issuer }),
    apiKeys: new ApiKeys(ds),
    appRegistry: new AppRegistry({ ds, serverAudience: audiences.defaultAudience }),
    appVerifier: new AppVerifier({ ds, flows, audit }),
    tokenEndpoint: new TokenEndpoint({ ds, tokens, flows, audiences, audit, codes: new CodeExchange({ ds, tokens, audit, audiences }) }),
    tokenAdmin: new TokenAdmin({ ds, tokens }),
  };
  return { config, ds, log, keys, tokens, passwords, guard, audit, audiences, credentials, flows, metrics, mfa, ...services };
}
