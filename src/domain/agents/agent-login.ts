import type { DataSource } from 'typeorm';
import { bearerToken, importVerifyKey, TokenError, verifyJwt } from '../../auth/index.js';
import { findAgentKeyForLogin, recordAssertion } from '../../db/repositories/agent-keys.js';
import type { AgentRecord } from '../../db/repositories/agents.js';
import { AppError } from '../../errors/index.js';
import type { Audiences } from '../audiences.js';
import type { AuditLog } from '../audit.js';
import type { Client } from '../auth/auth-flows.js';
import type { Tokens } from '../tokens.js';
import { issueAgentToken, narrowScopes, type AgentToken } from './agent-tokens.js';

/** The longest an assertion may live: it is a one-time login proof, not a credential to keep. */
const maxAssertionSeconds = 300;
const clockTolerance = 5;

export interface AgentLoginSettings {
  ds: DataSource;
  tokens: Tokens;
  audiences: Audiences;
  audit: AuditLog;
  /** The server's issuer URL: with the login URL and the default audience, what `aud` may name. */
  issuer: string;
}

function invalid(message?: string): AppError {
  return new AppError('INVALID_ASSERTION', message);
}

/** The `kid` of a compact JWS header, read without trusting anything else in it. */
function kidOf(assertion: string): string {
  const dot = assertion.indexOf('.');
  if (dot <= 0) throw invalid();
  try {
    const header: unknown = JSON.parse(Buffer.from(assertion.slice(0, dot), 'base64url').toString('utf8'));
    const kid = (header as { kid?: unknown } | null)?.kid;
    if (typeof kid === 'string' && kid.length > 0 && kid.length <= 200) return kid;
  } catch {
    /* malformed header */
  }
  throw invalid('The assertion header must name the key it was signed with ("kid").');
}

function requestedScopes(payload: Record<string, unknown>): string[] {
  const { scopes, scope } = payload;
  if (Array.isArray(scopes) && scopes.every((s) => typeof s === 'string')) return scopes as string[];
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  return [];
}

/**
 * USSO's agent login: the agent signs a short-lived JWT with one of its registered Ed25519 keys
 * (header `kid`; `iss` its id; `aud` this server; `exp` at most five minutes ahead; a fresh
 * `jti`), and gets an access token for the scopes it asks for (`scopes` or `scope`), within its
 * own. Each assertion is accepted once.
 */
export class AgentLogin {
  private readonly audiences: string[];
  constructor(private readonly s: AgentLoginSettings) {
    this.audiences = [s.audiences.defaultAudience, s.issuer, `${s.issuer}/api/sso/v1/agents/auth`];
  }

  /**
   * Logs in with the assertion of the `Authorization: Bearer` header, or the one given in the
   * body. Like a person's login, each success and failure is an audit event.
   */
  async authenticate(
    input: { authorization: string | null; assertion: string; audience: string },
    client: Client,
  ): Promise<AgentToken & { agent: AgentRecord }> {
    let agentId: string | null = null;
    const record = (outcome: 'success' | 'failure', reason?: string) =>
      this.s.audit.record({
        type: 'agent_login',
        outcome,
        reason,
        actorId: agentId,
        identifier: agentId,
        ip: client.ip,
        userAgent: client.userAgent,
      });
    try {
      const answer = await this.login(input, (id) => {
        agentId = id;
      });
      await record('success');
      return answer;
    } catch (e) {
      if (e instanceof AppError) await record('failure', e.reason);
      throw e;
    }
  }

  private async login(
    input: { authorization: string | null; assertion: string; audience: string },
    found: (agentId: string) => void,
  ): Promise<AgentToken & { agent: AgentRecord }> {
    const assertion = input.assertion || bearerToken(input.authorization);
    if (!assertion) throw new AppError('UNAUTHENTICATED', 'Send the signed assertion as "Authorization: Bearer <JWT>".');
    const registered = await findAgentKeyForLogin(this.s.ds, kidOf(assertion));
    if (!registered) throw invalid();
    const { key, agent } = registered;
    found(agent.id);
    let payload: Record<string, unknown>;
    try {
      payload = await verifyJwt(assertion, {
        resolveKey: async (kid) => (kid === key.kid ? importVerifyKey({ ...key.publicJwk }, 'EdDSA') : undefined),
        issuer: agent.id,
        audience: this.audiences,
        algorithms: ['EdDSA'],
        clockToleranceSec: clockTolerance,
      });
    } catch (e) {
      if (e instanceof TokenError) throw e.reason === 'expired' ? new AppError('TOKEN_EXPIRED', 'The assertion has expired.') : invalid();
      throw e;
    }
    if (payload.sub !== undefined && payload.sub !== agent.id) throw invalid('The assertion\'s "sub" must be the agent id.');
    const exp = payload.exp as number;
    if (exp - Date.now() / 1000 > maxAssertionSeconds + clockTolerance) {
      throw invalid(`The assertion must expire within ${maxAssertionSeconds} seconds.`);
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 200) throw invalid('The assertion needs a unique "jti".');
    if (!agent.isActive) throw new AppError('AGENT_INACTIVE');
    const scopes = narrowScopes(agent.scopes, requestedScopes(payload));
    const aud = await this.s.audiences.resolve(input.audience);
    // Kept past the expiry by the clock tolerance, so no clock skew reopens a replay window.
    if (!(await recordAssertion(this.s.ds, agent.id, jti, new Date((exp + clockTolerance + 1) * 1000), key.kid))) {
      throw new AppError('ASSERTION_REPLAYED');
    }
    return {
      ...(await issueAgentToken(this.s.tokens, {
        agentId: agent.id,
        audience: aud,
        scopes,
        amr: ['private_key_jwt'],
        credential: { agentKeyKid: key.kid },
      })),
      agent,
    };
  }
}
