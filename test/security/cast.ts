// The cast of the escalation matrix: an administrator, plain users, users holding exactly one
// permission, scoped API keys, agent tokens, and the principals they try to act on, all made
// through the public API (REST) by the administrator. Also a small, independent model of USSO's
// scope ladder, so the matrix says what "within the caller's scopes" means without borrowing the
// server's own code.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { getOption, hasOption, type DescService } from '@bufbuild/protobuf';
import { SignJWT } from 'jose';
import { access, type Access } from '../../gen/sso/options/v1/options_pb.js';
import type { TestServer } from '../support/server.js';

export const PASSWORD = 'CastPassword123!';

export interface Reply {
  status: number;
  body: any;
}

/** The access rule an RPC declares in its proto (`sso.options.v1.access`). */
export function accessOf(service: DescService, localName: string): Access {
  const method = service.methods.find((m) => m.localName === localName);
  assert.ok(method, `${service.typeName} has no method ${localName}`);
  assert.ok(hasOption(method, access), `${service.typeName}.${method.name} declares no access`);
  return getOption(method, access);
}

// --- USSO's scope ladder, restated -------------------------------------------------------------
const ladder = ['read', 'create', 'update', 'delete', 'manage', 'admin', 'owner'];

function covers(granted: string, required: string): boolean {
  if (granted === required || granted === '*' || granted === '*:*') return true;
  const [ga, gr = '*'] = granted.split(':');
  const [ra, rr = '*'] = required.split(':');
  if (gr !== '*' && gr !== rr) return false;
  if (ga === '*') return true;
  const g = ladder.indexOf(ga!);
  const r = ladder.indexOf(ra!);
  return g >= 0 && r >= 0 && g >= r;
}

/** Whether holding `granted` covers every one of `required`. */
export function within(granted: readonly string[], required: readonly string[]): boolean {
  return required.every((r) => granted.some((g) => covers(g, r)));
}

// --- principals ----------------------------------------------------------------------------
export interface UserP {
  kind: 'user';
  id: string;
  identifier: string;
  password: string;
  legacyId: number;
  isAdmin: boolean;
  grants: string[];
}
export interface AgentP {
  kind: 'agent';
  id: string;
  isAdmin: false;
  grants: string[];
}

export type ActorKind = 'anonymous' | 'plain' | 'holder' | 'apikey' | 'agent' | 'admin';
export const ACTORS: ActorKind[] = ['anonymous', 'plain', 'holder', 'apikey', 'agent', 'admin'];

export interface Actor {
  kind: ActorKind;
  /** The credential it presents: an access token, or an API key. */
  token?: string;
  apiKey?: string;
  /** The user it is (for an API key: the key's owner), or the agent it is. */
  user?: UserP;
  agent?: AgentP;
  /** What it holds: the token's or the key's scopes. */
  scopes: string[];
  isAdmin: boolean;
}

export class Cast {
  admin!: UserP & { token: string };
  private n = 0;
  constructor(readonly server: TestServer) {}

  next(): number {
    return ++this.n;
  }

  async call(method: string, path: string, opts: { token?: string; apiKey?: string; json?: unknown } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
    const res = await this.server.rest(path, { method, token: opts.token, json: opts.json, headers });
    const text = await res.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    return { status: res.status, body };
  }

  asAdmin(method: string, path: string, json?: unknown): Promise<Reply> {
    return this.call(method, path, { token: this.admin.token, json });
  }

  /** An administrator's call that must succeed. */
  async ok(method: string, path: string, json?: unknown): Promise<any> {
    const r = await this.asAdmin(method, path, json);
    assert.equal(r.status, 200, `setup ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Registers the first user, who becomes the administrator. */
  async bootstrap(): Promise<void> {
    const identifier = 'admin@example.com';
    const r = await this.call('POST', '/api/sso/v1/auth/login', { json: { identifier, secret: PASSWORD, register: true } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.user.is_admin, true);
    this.admin = {
      kind: 'user',
      id: r.body.user.id,
      identifier,
      password: PASSWORD,
      legacyId: r.body.user.legacy_id,
      isAdmin: true,
      grants: [],
      token: r.body.access_token,
    };
  }

  async user(opts: { scopes?: string[]; roles?: string[]; isAdmin?: boolean; grants?: string[] } = {}): Promise<UserP> {
    const identifier = `cast${this.next()}@example.com`;
    const body = await this.ok('POST', '/api/sso/v1/users', {
      identifier,
      password: PASSWORD,
      scopes: opts.scopes ?? [],
      roles: opts.roles ?? [],
      is_admin: opts.isAdmin ?? false,
    });
    return {
      kind: 'user',
      id: body.id,
      identifier,
      password: PASSWORD,
      legacyId: body.legacy_id,
      isAdmin: !!opts.isAdmin,
      grants: opts.grants ?? opts.scopes ?? [],
    };
  }

  async login(identifier: string, password: string): Promise<{ token: string; sessionId: string }> {
    const r = await this.call('POST', '/api/sso/v1/auth/login', { json: { identifier, secret: password } });
    assert.equal(r.status, 200, `login ${identifier}: ${r.status} ${JSON.stringify(r.body)}`);
    return { token: r.body.access_token, sessionId: r.body.session_id };
  }

  /** Whether the password signs the user in (a refused change must leave the old one working). */
  async passwordWorks(identifier: string, password: string): Promise<boolean> {
    const r = await this.call('POST', '/api/sso/v1/auth/login', { json: { identifier, secret: password } });
    return r.status === 200;
  }

  async agent(scopes: string[]): Promise<AgentP> {
    const body = await this.ok('POST', '/api/sso/v1/agents', { name: `Agent ${this.next()}`, scopes });
    return { kind: 'agent', id: body.id, isAdmin: false, grants: scopes };
  }

  /** Registers a fresh Ed25519 public key on an agent (as the administrator). */
  async agentKey(agentId: string): Promise<{ kid: string; privateKey: KeyObject }> {
    const pair = generateKeyPairSync('ed25519');
    const body = await this.ok('POST', `/api/sso/v1/agents/${agentId}/keys`, {
      jwk: pair.publicKey.export({ format: 'jwk' }),
      name: 'cast',
    });
    return { kid: body.kid, privateKey: pair.privateKey };
  }

  /** An agent login assertion, signed with the agent's private key. */
  assertion(agentId: string, kid: string, privateKey: KeyObject): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: agentId,
      sub: agentId,
      aud: this.server.config.issuer,
      iat: now,
      nbf: now,
      exp: now + 120,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid })
      .sign(privateKey);
  }

  /** POST /api/sso/v1/agents/auth with a signed assertion. */
  async agentLogin(agentId: string, kid: string, privateKey: KeyObject): Promise<Reply> {
    return this.call('POST', '/api/sso/v1/agents/auth', { token: await this.assertion(agentId, kid, privateKey), json: {} });
  }

  /** An agent's access token: its own Ed25519 key, then the agent login. */
  async agentToken(agentId: string): Promise<string> {
    const { kid, privateKey } = await this.agentKey(agentId);
    const r = await this.agentLogin(agentId, kid, privateKey);
    assert.equal(r.status, 200, `agent login: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.access_token;
  }

  /** An API key made by the presented credential (`/api/sso/v1/apikeys`). */
  async apiKey(cred: { token?: string; apiKey?: string }, body: Record<string, unknown>): Promise<{ id: string; key: string; body: any }> {
    const r = await this.call('POST', '/api/sso/v1/apikeys', { ...cred, json: { name: 'cast key', ...body } });
    assert.equal(r.status, 200, `api key: ${r.status} ${JSON.stringify(r.body)}`);
    return { id: r.body.id, key: r.body.key, body: r.body };
  }

  /**
   * An actor of the given kind whose one permission is `permission` ('' for none):
   * - plain: a user with no scopes, signed in;
   * - holder: a user holding exactly the permission, signed in;
   * - apikey: the API key (scopes [permission], expiring in 30 days) of such a user, made by the user;
   * - agent: the access token of an agent whose scopes are [permission], from its Ed25519 key;
   * - admin: the first administrator.
   */
  async actor(kind: ActorKind, permission: string): Promise<Actor> {
    const perms = permission ? [permission] : [];
    switch (kind) {
      case 'anonymous':
        return { kind, scopes: [], isAdmin: false };
      case 'admin':
        return { kind, token: this.admin.token, user: this.admin, scopes: ['*'], isAdmin: true };
      case 'plain': {
        const user = await this.user();
        return { kind, token: (await this.login(user.identifier, user.password)).token, user, scopes: [], isAdmin: false };
      }
      case 'holder': {
        const user = await this.user({ scopes: perms });
        return { kind, token: (await this.login(user.identifier, user.password)).token, user, scopes: perms, isAdmin: false };
      }
      case 'apikey': {
        const user = await this.user({ scopes: perms });
        const { token } = await this.login(user.identifier, user.password);
        const key = await this.apiKey({ token }, { scopes: perms, expires_in_days: 30 });
        return { kind, apiKey: key.key, user, scopes: perms, isAdmin: false };
      }
      case 'agent': {
        const agent = await this.agent(perms);
        return { kind, token: await this.agentToken(agent.id), agent, scopes: perms, isAdmin: false };
      }
    }
  }

  /**
   * Gives a user a factor to lose: a TOTP enrolment started (still pending, so it changes nothing
   * about how the user signs in, and every later login of theirs stays one step).
   */
  async startTotp(u: UserP): Promise<void> {
    const r = await this.call('POST', '/api/sso/v1/me/factors/totp', {
      token: (await this.login(u.identifier, u.password)).token,
      json: {},
    });
    assert.equal(r.status, 200, `start TOTP: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** A user's factor rows (TOTP, passkeys, recovery codes), read in SQL: no API lists another user's factors. */
  async factorRows(userId: string): Promise<number> {
    const [{ n }] = await this.server.app.database.dataSource.query(
      `SELECT (SELECT count(*) FROM totp_factors WHERE user_id = $1) + (SELECT count(*) FROM passkeys WHERE user_id = $1)
            + (SELECT count(*) FROM recovery_codes WHERE user_id = $1) AS n`,
      [userId],
    );
    return Number(n);
  }

  /** Removes every administrator but the first (deleting them), so that it is the last one. */
  async onlyFirstAdmin(): Promise<void> {
    const rows: { id: string }[] = await this.server.app.database.dataSource.query('SELECT id FROM users WHERE is_admin AND id <> $1', [
      this.admin.id,
    ]);
    for (const { id } of rows) await this.ok('DELETE', `/api/sso/v1/users/${id}`);
  }
}
