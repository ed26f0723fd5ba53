import { createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import { ApiKeyService } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { FactorService } from '../../gen/sso/auth/v1/factor_service_pb.js';

/**
 * The wire protocol a client speaks. All three reach the same handlers on the same port:
 * `grpc` needs HTTP/2 (Node only), `connect` and `grpc-web` work over HTTP/1.1 and from browsers.
 */
export type SsoTransportKind = 'grpc' | 'connect' | 'grpc-web';

/** What every variant (Node, browser) of `createSsoClients` takes. */
export interface SsoClientBaseOptions {
  /** The server's base URL, e.g. `http://localhost:8000` (no path). */
  baseUrl: string;
  /** An access token (JWT) sent as `Authorization: Bearer <token>`; wins over `apiKey`. */
  token?: string;
  /** An API key sent as `x-api-key: <key>` when no token is set. */
  apiKey?: string;
  /** Further interceptors, run after the one that attaches the credential. */
  interceptors?: Interceptor[];
}

/** Typed clients for the six services, sharing one transport and one credential. */
export interface SsoClients {
  auth: Client<typeof AuthService>;
  /** Second factors: one's own TOTP, recovery codes and passkeys; resets and the MFA policy. */
  factors: Client<typeof FactorService>;
  directory: Client<typeof DirectoryService>;
  agents: Client<typeof AgentService>;
  apiKeys: Client<typeof ApiKeyService>;
  apps: Client<typeof AppRegistryService>;
  /** The transport underneath, for clients of further services or your own calls. */
  transport: Transport;
  /** Presents this access token from the next call on (e.g. after `auth.login`); undefined drops it. */
  setToken(token: string | undefined): void;
  /** Presents this API key from the next call on, when no token is set; undefined drops it. */
  setApiKey(apiKey: string | undefined): void;
}

/**
 * Builds the clients over a transport made by `makeTransport`, which receives the interceptors
 * to install (the credential first). The credential lives in one mutable cell read per call, so
 * `setToken` after a login or a refresh affects every client at once.
 */
export function buildSsoClients(opts: SsoClientBaseOptions, makeTransport: (interceptors: Interceptor[]) => Transport): SsoClients {
  const credential = { token: opts.token, apiKey: opts.apiKey };
  const attachCredential: Interceptor = (next) => (req) => {
    if (credential.token) req.header.set('authorization', `Bearer ${credential.token}`);
    else if (credential.apiKey) req.header.set('x-api-key', credential.apiKey);
    return next(req);
  };
  const transport = makeTransport([attachCredential, ...(opts.interceptors ?? [])]);
  return {
    auth: createClient(AuthService, transport),
    factors: createClient(FactorService, transport),
    directory: createClient(DirectoryService, transport),
    agents: createClient(AgentService, transport),
    apiKeys: createClient(ApiKeyService, transport),
    apps: createClient(AppRegistryService, transport),
    transport,
    setToken: (token) => {
      credential.token = token;
    },
    setApiKey: (apiKey) => {
      credential.apiKey = apiKey;
    },
  };
}

/** A base URL without a trailing slash: transports append `/package.Service/Method` to it. */
export function normalizeBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`baseUrl must be http(s): ${baseUrl}`);
  return url.href.replace(/\/+$/, '');
}

export { AgentService, ApiKeyService, AppRegistryService, AuthService, DirectoryService, FactorService };
