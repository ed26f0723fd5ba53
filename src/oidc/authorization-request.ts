import type { Db } from '../db/repositories/sql.js';
import { findClient, type OidcClient } from '../domain/oidc/clients.js';

/** An authorization request that passed every check: what the code will be bound to. */
export interface AuthorizationRequest {
  client: OidcClient;
  redirectUri: string;
  state?: string;
  nonce?: string;
  scopes: string[];
  codeChallenge?: string;
  /** `login` (or `select_account`) forces a sign-in; `none` forbids any page. */
  prompt: Set<string>;
  maxAge?: number;
  loginHint?: string;
  /** The parameters as sent, carried through the sign-in form and validated again when it is posted. */
  carried: [string, string][];
}

/** What the endpoint answers for a request it cannot serve. */
export type Refusal =
  /** The client or redirect URI is not proven: never redirect (RFC 6749 4.1.2.1, RFC 9700 4.1). */
  | { kind: 'page'; message: string }
  /** The client and redirect URI are proven: the error goes back to the client. */
  | { kind: 'redirect'; redirectUri: string; state?: string; error: string; description: string };

/** The parameters of an authorization request this server reads (and carries through the sign-in form). */
const known = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'max_age',
  'login_hint',
  'request',
  'request_uri',
] as const;
const promptValues = new Set(['none', 'login', 'consent', 'select_account']);
const challengePattern = /^[A-Za-z0-9_-]{43}$/;
const maxLength = 2048;

/**
 * Validates an authorization request (OAuth 2.0 4.1.1, OpenID Connect Core 3.1.2.1, RFC 7636,
 * RFC 9700). First the client and its redirect URI, by exact string match: until both are
 * proven nothing is sent anywhere. Then every other rule, whose refusals go to that URI.
 */
export async function validateAuthorizationRequest(
  db: Db,
  params: URLSearchParams,
): Promise<{ ok: AuthorizationRequest } | { refused: Refusal }> {
  const single = (name: string): string | undefined | null => {
    const all = params.getAll(name);
    return all.length > 1 ? null : all[0];
  };
  const clientId = single('client_id');
  const redirectUri = single('redirect_uri');
  if (clientId === null || redirectUri === null) return page('client_id and redirect_uri must be sent once each.');
  if (!clientId) return page('The request names no application (client_id is missing).');
  const client = await findClient(db, clientId);
  if (!client) return page('The application is unknown or deactivated.');
  if (!redirectUri) return page('The request has no redirect_uri.');
  if (!client.redirectUris.includes(redirectUri)) return page('The redirect_uri is not registered for this application.');
  if (!usableRedirect(redirectUri)) return page('The registered redirect_uri is not an absolute URI without a fragment.');

  const state = single('state');
  const back = (error: string, description: string) => ({
    refused: { kind: 'redirect' as const, redirectUri, state: state ?? undefined, error, description },
  });
  for (const name of known) {
    if (params.getAll(name).length > 1) return back('invalid_request', `${name} must not be sent more than once.`);
    if ((params.get(name) ?? '').length > maxLength) return back('invalid_request', `${name} is too long.`);
  }
  // Each parameter is now known to be sent at most once.
  const value = (name: string): string | undefined => params.get(name) || undefined;
  if (value('request')) return back('request_not_supported', 'Request objects are not supported.');
  if (value('request_uri')) return back('request_uri_not_supported', 'request_uri is not supported.');
  const responseType = value('response_type');
  if (!responseType) return back('invalid_request', 'response_type is required.');
  // The authorization code flow only: no implicit or hybrid flow (RFC 9700 2.1.2).
  if (responseType !== 'code') return back('unsupported_response_type', 'Only response_type=code is supported.');
  const responseMode = value('response_mode');
  if (responseMode && responseMode !== 'query') return back('invalid_request', 'Only response_mode=query is supported.');

  const scopes = [...new Set((value('scope') ?? '').split(' ').filter(Boolean))];
  if (!scopes.includes('openid')) return back('invalid_scope', 'The scope must include openid.');
  const refusedScopes = scopes.filter((s) => !client.allowedScopes.includes(s));
  if (refusedScopes.length) return back('invalid_scope', `Scopes not allowed for this application: ${refusedScopes.join(' ')}.`);

  const challenge = value('code_challenge');
  const method = value('code_challenge_method');
  if (challenge) {
    // RFC 7636 defaults a missing method to plain, which gives no protection if the request is seen.
    if (method !== 'S256') return back('invalid_request', 'code_challenge_method must be S256.');
    if (!challengePattern.test(challenge)) return back('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters).');
  } else if (method) {
    return back('invalid_request', 'code_challenge_method was sent without code_challenge.');
  } else if (client.clientType === 'public') {
    return back('invalid_request', 'A public client must use PKCE (code_challenge with code_challenge_method=S256).');
  }

  const prompt = new Set((value('prompt') ?? '').split(' ').filter(Boolean));
  for (const p of prompt) if (!promptValues.has(p)) return back('invalid_request', `Unknown prompt value ${p}.`);
  if (prompt.has('none') && prompt.size > 1) return back('invalid_request', 'prompt=none cannot be combined with other values.');

  const maxAgeText = value('max_age');
  let maxAge: number | undefined;
  if (maxAgeText !== undefined) {
    if (!/^\d{1,10}$/.test(maxAgeText)) return back('invalid_request', 'max_age must be a whole number of seconds.');
    maxAge = Number(maxAgeText);
  }

  const carried: [string, string][] = [];
  for (const name of known) {
    const sent = value(name);
    if (sent) carried.push([name, sent]);
  }
  return {
    ok: {
      client,
      redirectUri,
      state: state || undefined,
      nonce: value('nonce'),
      scopes,
      codeChallenge: challenge,
      prompt,
      maxAge,
      loginHint: value('login_hint'),
      carried,
    },
  };
}

function usableRedirect(uri: string): boolean {
  try {
    return new URL(uri).hash === '' && !uri.includes('#');
  } catch {
    return false;
  }
}

function page(message: string): { refused: Refusal } {
  return { refused: { kind: 'page', message } };
}

/** The redirect URI with the response's parameters added (its own query kept, RFC 6749 3.1.2). */
export function responseUri(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}
