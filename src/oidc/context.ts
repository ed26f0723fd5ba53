import type { DataSource } from 'typeorm';
import type { AuditLog } from '../domain/audit.js';
import type { AuthFlows, Client } from '../domain/auth/auth-flows.js';
import type { Tokens } from '../domain/tokens.js';
import type { SecondFactorServices } from '../domain/factors/factor-services.js';
import type { Csrf } from './csrf.js';
import type { HeldSignIns } from './held-sign-in.js';
import type { Req } from './http.js';
import type { SsoSessions } from './sso-session.js';

/** What the front-channel routes share, built once per server (routes.ts). */
export interface FrontChannel {
  db: DataSource;
  /** The `iss` of every authorization response (RFC 9207). */
  issuer: string;
  flows: AuthFlows;
  tokens: Tokens;
  audit: AuditLog;
  allowRegistration: boolean;
  sessions: SsoSessions;
  csrf: Csrf;
  /** Second factors: a held sign-in's second step, passkey sign-ins, the account page's own factors. */
  mfa: SecondFactorServices;
  /** The browser's held sign-in (between its password and its second step). */
  held: HeldSignIns;
  /** The caller's address and agent, read as the RPCs read them (SSO_TRUST_PROXY). */
  clientOf(req: Req): Client;
}
