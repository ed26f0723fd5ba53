/**
 * The one place configuration is read: every setting, its environment name, its default and its
 * meaning. `loadConfig` validates everything at start and reports every problem at once, so an
 * operator fixes a bad deployment in one go instead of one crash at a time.
 */
import { availableParallelism } from 'node:os';
import type { DatabaseConfig } from './db/data-source.js';
import {
  JOSE_COOLDOWN_SECONDS,
  JWKS_MAX_AGE_SECONDS,
  KEY_RELOAD_SECONDS,
  MIN_KEY_PUBLISH_DELAY_SECONDS,
} from './domain/keys/publish-windows.js';

/** More processes than this only add memory (and database connections) on any machine this serves. */
const MAX_WORKERS = 64;

export type JwtAlg = 'ES256' | 'RS256' | 'EdDSA';

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL URL; undefined = the embedded database. */
  databaseUrl: string | undefined;
  dataDir: string;
  issuer: string;
  /**
   * SSO_ISSUER was not set, so the issuer is derived from the port: instances on different ports
   * (or hosts) then refuse each other's tokens, so the server warns at start.
   */
  issuerIsDefault: boolean;
  audience: string;
  allowedAudiences: string[];
  jwtAlg: JwtAlg;
  accessTtl: number;
  refreshTtl: number;
  bcryptCost: number;
  allowRegistration: boolean;
  /** Browser origins allowed by CORS; ['*'] allows any; [] none. */
  corsOrigins: string[];
  keySecret: string | undefined;
  /** How long a new signing key is published before it signs (JWKS caches must see it first). */
  keyPublishDelay: number;
  logLevel: string;
  /** How log lines are written (logger.ts: `auto` is pretty only for a person at a terminal). */
  logFormat: 'auto' | 'json' | 'pretty';
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). */
  trustProxy: boolean;
  /** Failures per identifier before logins for it are refused for a while. */
  loginMaxFailures: number;
  /** Failures per client address before logins from it are refused for a while. */
  loginMaxFailuresPerIp: number;
  /** The first lock's length in seconds; each further failure doubles it, up to loginLockMax. */
  loginLockBase: number;
  loginLockMax: number;
  /** How long in-flight calls may take to finish on shutdown, in seconds. */
  shutdownGrace: number;
  /** Keep credential standings in memory, dropped when the database announces a change (domain/auth/standing-cache.ts). */
  revocationCache: boolean;
  /** Server processes sharing the port (Node's cluster); 1 = one process, as without SSO_WORKERS. */
  workers: number;
  /** The bearer token a scrape of /metrics must present; undefined = none asked. */
  metricsToken: string | undefined;
  /** A separate listener for /metrics only; undefined = /metrics on the main port, and only with a token. */
  metricsAddress: { host: string; port: number } | undefined;
  /** The WebAuthn relying party id passkeys are bound to: a host name (default the issuer's). */
  webauthnRpId: string;
  /** The page origins passkey ceremonies may come from (default the issuer's origin). */
  webauthnOrigins: string[];
}

export interface Setting {
  env: string;
  default: string;
  meaning: string;
}

/** Documented settings, in the order the README's configuration table shows them. */
export const settings: Setting[] = [
  { env: 'PORT', default: '8000', meaning: 'the one listening port for gRPC, gRPC-Web, Connect and REST' },
  { env: 'HOST', default: '0.0.0.0', meaning: 'the listening address' },
  { env: 'DATABASE_URL', default: 'unset', meaning: 'PostgreSQL URL; unset = the embedded database' },
  { env: 'SSO_DATA_DIR', default: './data', meaning: 'where the embedded database and a generated development key secret live' },
  { env: 'SSO_ISSUER', default: 'http://localhost:<PORT>', meaning: 'the `iss` claim and the base of published URLs' },
  { env: 'SSO_AUDIENCE', default: 'sso', meaning: 'default `aud` of tokens' },
  { env: 'SSO_ALLOWED_AUDIENCES', default: 'unset', meaning: 'comma list of further audiences a login may ask for' },
  { env: 'SSO_JWT_ALG', default: 'ES256', meaning: '`ES256`, `RS256` or `EdDSA`' },
  { env: 'SSO_ACCESS_TTL', default: '900', meaning: 'access token lifetime, seconds' },
  { env: 'SSO_REFRESH_TTL', default: '2592000', meaning: 'refresh token and session lifetime, seconds' },
  { env: 'SSO_BCRYPT_COST', default: '12', meaning: 'password hashing cost (4-15); older hashes are upgraded at the next login' },
  { env: 'SSO_ALLOW_REGISTRATION', default: 'true', meaning: 'whether `register: true` may create users' },
  { env: 'SSO_CORS_ORIGINS', default: 'unset', meaning: 'comma list of browser origins allowed; `*` for any' },
  {
    env: 'SSO_KEY_SECRET',
    default: 'generated in the data dir, with a warning',
    meaning: 'encrypts private signing keys at rest (at least 32 characters)',
  },
  {
    env: 'SSO_KEY_PUBLISH_DELAY',
    default: '600',
    meaning: `seconds a rotated-in key is published before it signs; at least ${MIN_KEY_PUBLISH_DELAY_SECONDS}, so every instance and JWKS cache has it first`,
  },
  { env: 'SSO_TLS_CERT', default: 'unset', meaning: 'PEM certificate file; with SSO_TLS_KEY serves TLS (ALPN picks HTTP/2 or 1.1)' },
  { env: 'SSO_TLS_KEY', default: 'unset', meaning: 'PEM private key file' },
  { env: 'SSO_TRUST_PROXY', default: 'false', meaning: 'take the client address from X-Forwarded-For' },
  { env: 'SSO_LOGIN_MAX_FAILURES', default: '5', meaning: 'failed logins for one identifier before it is locked for a while' },
  { env: 'SSO_LOGIN_MAX_FAILURES_PER_IP', default: '50', meaning: 'failed logins from one address before it is locked for a while' },
  { env: 'SSO_LOGIN_LOCK_SECONDS', default: '30', meaning: 'first lock length; doubles with each further failure' },
  { env: 'SSO_LOGIN_LOCK_MAX_SECONDS', default: '3600', meaning: 'longest lock' },
  { env: 'SSO_SHUTDOWN_GRACE', default: '10', meaning: 'seconds in-flight calls may take to finish on shutdown' },
  {
    env: 'SSO_REVOCATION_CACHE',
    default: 'on',
    meaning:
      'keep what sessions, agents and API keys stand for (and GET /me\'s user view) in memory, dropped when the database announces a change (LISTEN/NOTIFY); `off` reads the database on every call (see "Revocation cache")',
  },
  {
    env: 'SSO_WORKERS',
    default: '1',
    meaning:
      'server processes sharing the port: a number (1-64), or `auto` for one per CPU; the first process then supervises them and, on the embedded database, owns it (see "Using both cores")',
  },
  {
    env: 'SSO_METRICS_TOKEN',
    default: 'unset',
    meaning:
      'bearer token (at least 32 characters) a scrape of `GET /metrics` must send; with neither this nor SSO_METRICS_ADDRESS, metrics are not served',
  },
  {
    env: 'SSO_METRICS_ADDRESS',
    default: 'unset',
    meaning: '`host:port` of a separate listener serving only `/metrics` (e.g. `127.0.0.1:9464`); the main port then answers 404 for it',
  },
  {
    env: 'SSO_WEBAUTHN_RP_ID',
    default: 'the host of SSO_ISSUER',
    meaning: 'the WebAuthn relying party id passkeys are bound to (a host name; the origins must be on it or its subdomains)',
  },
  {
    env: 'SSO_WEBAUTHN_ORIGINS',
    default: 'the origin of SSO_ISSUER',
    meaning: 'comma list of page origins passkey sign-ins and registrations may come from',
  },
  { env: 'LOG_LEVEL', default: 'info', meaning: 'pino level (trace, debug, info, warn, error, fatal, silent)' },
  {
    env: 'LOG_FORMAT',
    default: 'auto',
    meaning:
      '`pretty` (human-readable), `json` (one object a line), or `auto`: pretty on a terminal, JSON when stdout is not a TTY, `CI` is set or `NODE_ENV=production`',
  },
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const list = (name: string): string[] =>
    (read(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);

  const port = int('PORT', 8000, 0, 65535);
  const jwtAlg = (read('SSO_JWT_ALG') ?? 'ES256') as JwtAlg;
  if (!['ES256', 'RS256', 'EdDSA'].includes(jwtAlg)) problems.push(`SSO_JWT_ALG must be ES256, RS256 or EdDSA (got "${jwtAlg}")`);
  const issuerIsDefault = read('SSO_ISSUER') === undefined;
  const issuer = (read('SSO_ISSUER') ?? `http://localhost:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(issuer)) problems.push(`SSO_ISSUER must be an http(s) URL (got "${issuer}")`);
  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  const keySecret = read('SSO_KEY_SECRET');
  // Set but blank (an unfilled deployment variable) is refused too, not a silent fallback to a
  // generated development secret.
  if (env.SSO_KEY_SECRET !== undefined && (keySecret ?? '').length < 32) problems.push('SSO_KEY_SECRET must be at least 32 characters');
  const tlsCert = read('SSO_TLS_CERT');
  const tlsKey = read('SSO_TLS_KEY');
  if (Boolean(tlsCert) !== Boolean(tlsKey)) problems.push('SSO_TLS_CERT and SSO_TLS_KEY go together: set both or neither');
  const logLevel = read('LOG_LEVEL') ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel))
    problems.push(`LOG_LEVEL must be a pino level (got "${logLevel}")`);
  const logFormat = read('LOG_FORMAT') ?? 'auto';
  if (!['auto', 'json', 'pretty'].includes(logFormat)) problems.push(`LOG_FORMAT must be auto, json or pretty (got "${logFormat}")`);
  const corsOrigins = list('SSO_CORS_ORIGINS');
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin))
      problems.push(`SSO_CORS_ORIGINS: "${origin}" is not an origin like https://app.example.com`);
  }
  const keyPublishDelay = int('SSO_KEY_PUBLISH_DELAY', 600, 0, 7 * 86400);
  if (keyPublishDelay < MIN_KEY_PUBLISH_DELAY_SECONDS) {
    // See publish-windows.ts: a shorter delay lets a key sign before every verifier can know it.
    problems.push(
      `SSO_KEY_PUBLISH_DELAY must be at least ${MIN_KEY_PUBLISH_DELAY_SECONDS} seconds (got "${keyPublishDelay}"): ` +
        `instances re-read keys every ${KEY_RELOAD_SECONDS} s, the JWKS may be cached ${JWKS_MAX_AGE_SECONDS} s, and jose ` +
        `verifiers refetch at most every ${JOSE_COOLDOWN_SECONDS} s, so a key that signs sooner is refused by verifiers that have not seen it yet`,
    );
  }
  const metricsToken = read('SSO_METRICS_TOKEN');
  // Set but blank is refused (as for SSO_KEY_SECRET): an unfilled variable must not mean "no token".
  if (env.SSO_METRICS_TOKEN !== undefined && (metricsToken ?? '').length < 32)
    problems.push('SSO_METRICS_TOKEN must be at least 32 characters');
  const metricsAddressRaw = read('SSO_METRICS_ADDRESS');
  const metricsAddress = metricsAddressRaw === undefined ? undefined : parseHostPort(metricsAddressRaw);
  if (metricsAddressRaw !== undefined && !metricsAddress)
    problems.push(`SSO_METRICS_ADDRESS must be host:port, like 127.0.0.1:9464 or [::1]:9464 (got "${metricsAddressRaw}")`);
  const issuerUrl = /^https?:\/\/[^/]+/.test(issuer) ? new URL(issuer) : undefined;
  const webauthnRpId = (read('SSO_WEBAUTHN_RP_ID') ?? issuerUrl?.hostname ?? 'localhost').toLowerCase();
  const webauthnOrigins = list('SSO_WEBAUTHN_ORIGINS');
  if (webauthnOrigins.length === 0 && issuerUrl) webauthnOrigins.push(issuerUrl.origin);
  for (const origin of webauthnOrigins) {
    // (Browsers refuse a page whose host is not the RP ID or under it, WebAuthn 5.1.3.)
    if (!/^https?:\/\/[^/:]+(:\d+)?$/.test(origin))
      problems.push(`SSO_WEBAUTHN_ORIGINS: "${origin}" is not an origin like https://sso.example.com`);
  }
  const workersRaw = read('SSO_WORKERS')?.toLowerCase();
  const workers = workersRaw === 'auto' ? availableParallelism() : int('SSO_WORKERS', 1, 1, MAX_WORKERS);
  const lockBase = int('SSO_LOGIN_LOCK_SECONDS', 30, 1, 86400);
  const lockMax = int('SSO_LOGIN_LOCK_MAX_SECONDS', 3600, 1, 30 * 86400);
  if (lockMax < lockBase) problems.push('SSO_LOGIN_LOCK_MAX_SECONDS must not be less than SSO_LOGIN_LOCK_SECONDS');

  const config: Config = {
    port,
    host: read('HOST') ?? '0.0.0.0',
    databaseUrl,
    dataDir: read('SSO_DATA_DIR') ?? './data',
    issuer,
    issuerIsDefault,
    audience: read('SSO_AUDIENCE') ?? 'sso',
    allowedAudiences: list('SSO_ALLOWED_AUDIENCES'),
    jwtAlg,
    accessTtl: int('SSO_ACCESS_TTL', 900, 10, 86400),
    refreshTtl: int('SSO_REFRESH_TTL', 2592000, 60, 366 * 86400),
    bcryptCost: int('SSO_BCRYPT_COST', 12, 4, 15),
    allowRegistration: bool('SSO_ALLOW_REGISTRATION', true),
    corsOrigins,
    keySecret,
    keyPublishDelay,
    logLevel,
    logFormat: logFormat as Config['logFormat'],
    tlsCert,
    tlsKey,
    trustProxy: bool('SSO_TRUST_PROXY', false),
    loginMaxFailures: int('SSO_LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginMaxFailuresPerIp: int('SSO_LOGIN_MAX_FAILURES_PER_IP', 50, 1, 100000),
    loginLockBase: lockBase,
    loginLockMax: lockMax,
    shutdownGrace: int('SSO_SHUTDOWN_GRACE', 10, 0, 600),
    revocationCache: bool('SSO_REVOCATION_CACHE', true),
    workers,
    metricsToken,
    metricsAddress,
    webauthnRpId,
    webauthnOrigins,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...config, ...overrides };
}

/** `host:port` or `[ipv6]:port`, port 0-65535 (0 picks a free one); undefined when malformed. */
function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** Where the data lives: PostgreSQL when DATABASE_URL is set, else the embedded database in the data dir. */
export function databaseConfigOf(config: Config): DatabaseConfig {
  return config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'embedded', dataDir: `${config.dataDir}/db` };
}
