import type { DataSource } from 'typeorm';
import { loadKeySecret, PasswordHasher } from '../auth/index.js';
import type { Config } from '../config.js';
import { appIdForAudience } from '../db/repositories/apps.js';
import { authenticateApiKey } from '../domain/apikeys/authenticate.js';
import { Audiences } from '../domain/audiences.js';
import { AuditLog } from '../domain/audit.js';
import { AuthFlows } from '../domain/auth/auth-flows.js';
import { CredentialChecker } from '../domain/auth/authenticator.js';
import { LoginGuard } from '../domain/auth/login-guard.js';
import { FactorEnrolment } from '../domain/factors/enrolment.js';
import { FactorAdmin } from '../domain/factors/factor-admin.js';
import { LoginCompletion } from '../domain/factors/login-completion.js';
import { LoginGate } from '../domain/factors/login-gate.js';
import { OwnFactors } from '../domain/factors/own-factors.js';
import { SecondFactors } from '../domain/factors/second-factors.js';
import type { SecondFactorServices } from '../domain/factors/factor-services.js';
import { KeyStore } from '../domain/keys/key-store.js';
import { Tokens } from '../domain/tokens.js';
import type { Logger } from '../logger.js';
import { createMetrics, type Metrics } from './metrics.js';

/** Everything the services are built from: made once per server, shared by every handler. */
export interface Deps {
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
  const secret = loadKeySecret({ configured: config.keySecret, dataDir: config.dataDir, warn: (m) => log.warn(m) });
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
  return { config, ds, log, keys, tokens, passwords, guard, audit, audiences, credentials, flows, metrics, mfa };
}
