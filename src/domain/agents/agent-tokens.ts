import { AppError } from '../../errors/index.js';
import { scopesOf } from '../directory/rules.js';
import { scopesNotCovered } from '../scopes.js';
import type { Tokens } from '../tokens.js';

/**
 * The scopes an agent's token gets: the ones asked for, each within what the credential holds,
 * or everything it holds when none are asked for.
 */
export function narrowScopes(held: readonly string[], requested: readonly string[]): string[] {
  if (requested.length === 0) return [...held];
  const scopes = scopesOf(requested);
  const beyond = scopesNotCovered(held, scopes);
  if (beyond.length > 0) throw new AppError('INVALID_SCOPE', `The client does not hold: ${beyond.slice(0, 10).join(', ')}.`);
  return scopes;
}

export interface AgentToken {
  accessToken: string;
  expiresIn: number;
  scopes: string[];
}

/**
 * An agent's access token: `sub` the agent id, no session (the authenticator checks the agent's
 * row on every use instead, so deactivation and deletion hold at once), no roles, and the
 * credential it was issued against, so revoking that key (or removing that public key) ends the
 * token at once too.
 */
export async function issueAgentToken(
  tokens: Tokens,
  input: {
    agentId: string;
    audience: string;
    scopes: string[];
    amr: string[];
    credential: { apiKeyId: string } | { agentKeyKid: string };
  },
): Promise<AgentToken> {
  const { token } = await tokens.issueAccess({
    sub: input.agentId,
    aud: input.audience,
    roles: [],
    scopes: input.scopes,
    amr: input.amr,
    credential: input.credential,
  });
  return { accessToken: token, expiresIn: tokens.settings.accessTtl, scopes: input.scopes };
}
