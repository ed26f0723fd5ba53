// Issue 9's escalation matrix: every mutating RPC that acts on a principal × every kind of caller
// {anonymous, plain user, user holding only the RPC's permission, scoped API key, agent token,
// administrator} × every kind of target {self, peer, stronger peer, administrator, agents up to
// `*`}, and the mutating RPCs that act on no principal × every kind of caller; each cell as the
// policy of who may act on whom says (the policy is restated in `policy` below), and every refused
// call changes nothing (the administrator reads the target back: flags, grants, password, keys,
// sessions). Each caller's one permission is read from the RPC's `sso.options.v1.access` option,
// so the table follows the protos. Cells run over Connect; the rows of issue 9's findings 1-3 and
// the self-service password rule run over REST too; the findings themselves are replayed exactly.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { DescService } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { ErrorInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import { ApiKeyService } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { FactorService } from '../../gen/sso/auth/v1/factor_service_pb.js';
import { DirectoryService, UpdateUserRequestSchema } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { accessOf, ACTORS, Cast, PASSWORD, within, type Actor, type ActorKind, type AgentP, type UserP } from './cast.js';

const NEW_PASSWORD = 'ChangedPassword456!';

// --- the table ---------------------------------------------------------------------------------

/**
 * Whom a cell acts on. self: the caller itself (for an API key, its owner); peer: a user with no
 * grants; strong: a user holding `delete:users` directly; roleStrong: one holding it through a
 * global role; wsStrong: one holding it through a workspace role; admin: another administrator; peerAgent: an agent with no scopes; narrowAgent: one with
 * `read:users`; starAgent: one with `*`; none: the RPC acts on no principal.
 */
type TargetKind = 'self' | 'peer' | 'strong' | 'roleStrong' | 'wsStrong' | 'admin' | 'peerAgent' | 'narrowAgent' | 'starAgent' | 'none';

interface Cell {
  row: Row;
  actor: Actor;
  kind: TargetKind;
  target?: UserP | AgentP;
  /** Whatever the row prepared: a session, a key, a role, an app ... */
  x: Record<string, any>;
}

type Expected = { allow: true } | { allow: false; codes: Code[]; reasons: string[] };
const ALLOW: Expected = { allow: true };
const deny = (codes: Code | Code[], ...reasons: string[]): Expected => ({ allow: false, codes: [codes].flat(), reasons });
const DENIED = deny(Code.PermissionDenied, 'PERMISSION_DENIED');

interface Row {
  name: string;
  service: DescService;
  rpc: string;
  targets: TargetKind[];
  /** Whose principal "self" is: a user, an agent, or whichever the caller is (API keys). */
  subject?: 'user' | 'agent' | 'either';
  prepare?(c: Cast, cell: Cell): Promise<void>;
  request(cell: Cell): Record<string, unknown>;
  rest(cell: Cell): [string, string, unknown?];
  /** What the administrator reads back: it must differ after an allowed call, not after a refused one. */
  state(c: Cast, cell: Cell): Promise<unknown>;
  /** A non-administrator acting on itself. */
  self?(actor: Actor, holds: boolean): Expected;
  /** An administrator acting on itself is the last administrator: LAST_ADMIN. */
  lastAdmin?: boolean;
  /** The decision for a non-administrator, where the generic rule of targets does not apply. */
  refine?(actor: Actor, holds: boolean, cell: Cell): Expected;
  /** The whole decision, administrators included (rules that bind everyone). */
  override?(actor: Actor, cell: Cell): Expected | undefined;
  /** A refusal for lack of the permission may also look like absence (others' keys and sessions). */
  hidesOthers?: boolean;
  actors?: ActorKind[];
  /** Also run every cell of this row over REST. */
  restToo?: boolean;
  /** The password the call sets, if it sets one (to keep the administrator's known password true). */
  sets?(cell: Cell): string;
}

// --- what the administrator reads back ---------------------------------------------------------

async function userState(c: Cast, id: string): Promise<unknown> {
  const r = await c.asAdmin('GET', `/api/sso/v1/users/${id}`);
  if (r.status === 404) return 'gone';
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const u = r.body;
  return {
    active: u.is_active,
    admin: u.is_admin,
    scopes: [...u.scopes].sort(),
    direct: [...(u.direct_scopes ?? [])].sort(),
    roles: [...u.roles].sort(),
  };
}

async function agentState(c: Cast, id: string): Promise<unknown> {
  const r = await c.asAdmin('GET', `/api/sso/v1/agents/${id}`);
  if (r.status === 404) return 'gone';
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const keys = await c.asAdmin('GET', `/api/sso/v1/agents/${id}/keys`);
  return {
    active: r.body.is_active,
    scopes: [...r.body.scopes].sort(),
    description: r.body.description,
    keys: keys.body.items.map((k: any) => k.kid).sort(),
  };
}

async function liveKeys(c: Cast, owner: UserP | AgentP): Promise<number> {
  const r = await c.asAdmin('GET', `/api/sso/v1/apikeys?${owner.kind === 'user' ? 'user_id' : 'agent_id'}=${owner.id}&limit=1`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.total;
}

async function total(c: Cast, path: string): Promise<number> {
  const r = await c.asAdmin('GET', `${path}?limit=1`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.total;
}

const user = (cell: Cell) => cell.target as UserP;
const agent = (cell: Cell) => cell.target as AgentP;
const owner = (cell: Cell) => cell.target as UserP | AgentP;

/** A user target's account: flags and grants, and whether its password still signs it in. */
const accountState = async (c: Cast, cell: Cell) => ({
  user: await userState(c, user(cell).id),
  password: await c.passwordWorks(user(cell).identifier, cell.x.oldPassword),
});

const USER_TARGETS: TargetKind[] = ['self', 'peer', 'strong', 'admin'];
const AGENT_TARGETS: TargetKind[] = ['self', 'peerAgent', 'narrowAgent', 'starAgent'];
const heldOrDenied = (_a: Actor, holds: boolean) => (holds ? ALLOW : DENIED);
const selfPasswordRefusals = deny(
  [Code.InvalidArgument, Code.PermissionDenied, Code.Unauthenticated],
  'CURRENT_PASSWORD_REQUIRED',
  'CURRENT_PASSWORD_INCORRECT',
  'PERMISSION_DENIED',
  'INVALID_CREDENTIALS',
);

const principalRows: Row[] = [
  {
    name: 'UpdateUser is_active=false',
    service: DirectoryService,
    rpc: 'updateUser',
    subject: 'user',
    restToo: true,
    targets: ['self', 'peer', 'strong', 'roleStrong', 'wsStrong', 'admin'],
    lastAdmin: true,
    self: heldOrDenied,
    request: (cell) => ({ id: user(cell).id, isActive: false }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { is_active: false }],
    state: (c, cell) => userState(c, user(cell).id),
  },
  {
    name: 'UpdateUser password',
    service: DirectoryService,
    rpc: 'updateUser',
    subject: 'user',
    restToo: true,
    targets: USER_TARGETS,
    // On itself with the correct current password: anyone signed in, never an API key.
    self: (actor) => (actor.kind === 'apikey' ? deny(Code.PermissionDenied) : ALLOW),
    async prepare(c, cell) {
      cell.x.password = `Changed${c.next()}Password!`;
    },
    sets: (cell) => cell.x.password,
    request: (cell) => ({
      id: user(cell).id,
      password: cell.x.password,
      ...(cell.kind === 'self' ? { currentPassword: user(cell).password } : {}),
    }),
    rest: (cell) => [
      'PATCH',
      `/api/sso/v1/users/${user(cell).id}`,
      { password: cell.x.password, ...(cell.kind === 'self' ? { current_password: user(cell).password } : {}) },
    ],
    state: accountState,
  },
  {
    name: 'UpdateUser password on itself without current_password',
    service: DirectoryService,
    rpc: 'updateUser',
    subject: 'user',
    restToo: true,
    targets: ['self'],
    override: (actor) => (actor.kind === 'anonymous' ? undefined : selfPasswordRefusals),
    sets: () => NEW_PASSWORD,
    request: (cell) => ({ id: user(cell).id, password: NEW_PASSWORD }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { password: NEW_PASSWORD }],
    state: accountState,
  },
  {
    name: 'UpdateUser password on itself with a wrong current_password',
    service: DirectoryService,
    rpc: 'updateUser',
    subject: 'user',
    restToo: true,
    targets: ['self'],
    override: (actor) => (actor.kind === 'anonymous' ? undefined : selfPasswordRefusals),
    sets: () => NEW_PASSWORD,
    request: (cell) => ({ id: user(cell).id, password: NEW_PASSWORD, currentPassword: 'NotThePassword1!' }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { password: NEW_PASSWORD, current_password: 'NotThePassword1!' }],
    state: accountState,
  },
  {
    name: 'UpdateUser scopes=[read:users]',
    service: DirectoryService,
    rpc: 'updateUser',
    subject: 'user',
    restToo: true,
    targets: USER_TARGETS,
    self: heldOrDenied,
    // The first administrator is the only target met twice: start it from no direct scopes.
    async prepare(c, cell) {
      if (cell.target === c.admin) await c.ok('PATCH', `/api/sso/v1/users/${c.admin.id}`, { scopes: [] });
    },
    request: (cell) => ({ id: user(cell).id, scopes: ['read:users'], updateMask: { paths: ['scopes'] } }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { scopes: ['read:users'] }],
    state: (c, cell) => userState(c, user(cell).id),
  },
  {
    // Demoting: only administrators touch the flag; the last active administrator cannot demote itself.
    name: 'UpdateUser is_admin=false',
    service: DirectoryService,
    rpc: 'updateUser',
    subject: 'user',
    targets: ['self', 'admin'],
    lastAdmin: true,
    refine: () => deny(Code.PermissionDenied, 'ADMIN_REQUIRED', 'PERMISSION_DENIED'),
    request: (cell) => ({ id: user(cell).id, isAdmin: false }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { is_admin: false }],
    state: (c, cell) => userState(c, user(cell).id),
  },
  {
    name: 'DeleteUser',
    service: DirectoryService,
    rpc: 'deleteUser',
    subject: 'user',
    targets: USER_TARGETS,
    lastAdmin: true,
    self: heldOrDenied,
    request: (cell) => ({ id: user(cell).id }),
    rest: (cell) => ['DELETE', `/api/sso/v1/users/${user(cell).id}`],
    state: accountState,
  },
  {
    name: 'DeleteSession (another session of the target)',
    service: AuthService,
    rpc: 'deleteSession',
    subject: 'user',
    targets: USER_TARGETS,
    self: () => ALLOW,
    hidesOthers: true,
    async prepare(c, cell) {
      cell.x.session = (await c.login(user(cell).identifier, user(cell).password)).sessionId;
    },
    request: (cell) => ({ id: cell.x.session }),
    rest: (cell) => ['DELETE', `/api/sso/v1/sessions/${cell.x.session}`],
    async state(c, cell) {
      const r = await c.asAdmin('GET', `/api/sso/v1/sessions?user_id=${user(cell).id}&limit=100`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.items.some((s: any) => s.id === cell.x.session);
    },
  },
  {
    // Resetting someone's factors weakens their account: acting on them (update:users and the
    // rule of who may act on whom). Nobody resets their own this way, administrators included:
    // that would strip a factor without proving one.
    name: 'ResetUserFactors',
    service: FactorService,
    rpc: 'resetUserFactors',
    subject: 'user',
    restToo: true,
    targets: USER_TARGETS,
    override: (_actor, cell) => (cell.kind === 'self' ? deny(Code.PermissionDenied, 'PERMISSION_DENIED') : undefined),
    async prepare(c, cell) {
      await c.startTotp(user(cell));
    },
    request: (cell) => ({ userId: user(cell).id }),
    rest: (cell) => ['POST', `/api/sso/v1/users/${user(cell).id}/factors/reset`, {}],
    state: (c, cell) => c.factorRows(user(cell).id),
  },
  {
    name: 'UpdateLegacyUser is_active=false (administrators only)',
    service: DirectoryService,
    rpc: 'updateLegacyUser',
    subject: 'user',
    targets: ['self', 'peer', 'admin'],
    lastAdmin: true,
    request: (cell) => ({ userId: user(cell).legacyId, isActive: false }),
    rest: (cell) => ['PUT', `/users/${user(cell).legacyId}`, { is_active: false }],
    state: (c, cell) => userState(c, user(cell).id),
  },
  {
    name: 'UpdateAgent is_active=false',
    service: AgentService,
    rpc: 'updateAgent',
    subject: 'agent',
    targets: AGENT_TARGETS,
    self: heldOrDenied,
    request: (cell) => ({ id: agent(cell).id, isActive: false }),
    rest: (cell) => ['PATCH', `/api/sso/v1/agents/${agent(cell).id}`, { is_active: false }],
    state: (c, cell) => agentState(c, agent(cell).id),
  },
  {
    name: 'DeleteAgent',
    service: AgentService,
    rpc: 'deleteAgent',
    subject: 'agent',
    targets: AGENT_TARGETS,
    self: heldOrDenied,
    request: (cell) => ({ id: agent(cell).id }),
    rest: (cell) => ['DELETE', `/api/sso/v1/agents/${agent(cell).id}`],
    state: (c, cell) => agentState(c, agent(cell).id),
  },
  {
    name: "CreateAgentKey (an Ed25519 key of the caller's)",
    service: AgentService,
    rpc: 'createAgentKey',
    subject: 'agent',
    restToo: true,
    targets: AGENT_TARGETS,
    self: () => ALLOW,
    async prepare(_c, cell) {
      cell.x.jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    },
    request: (cell) => ({ agentId: agent(cell).id, jwk: cell.x.jwk, name: 'matrix' }),
    rest: (cell) => ['POST', `/api/sso/v1/agents/${agent(cell).id}/keys`, { jwk: cell.x.jwk, name: 'matrix' }],
    state: (c, cell) => agentState(c, agent(cell).id),
  },
  {
    name: 'DeleteAgentKey',
    service: AgentService,
    rpc: 'deleteAgentKey',
    subject: 'agent',
    targets: AGENT_TARGETS,
    self: () => ALLOW,
    async prepare(c, cell) {
      cell.x.kid = (await c.agentKey(agent(cell).id)).kid;
    },
    request: (cell) => ({ agentId: agent(cell).id, kid: cell.x.kid }),
    rest: (cell) => ['DELETE', `/api/sso/v1/agents/${agent(cell).id}/keys/${cell.x.kid}`],
    state: (c, cell) => agentState(c, agent(cell).id),
  },
  {
    name: 'CreateApiKey (for the caller, or agent_id = the target)',
    service: ApiKeyService,
    rpc: 'createApiKey',
    subject: 'either',
    restToo: true,
    targets: AGENT_TARGETS,
    self: () => ALLOW,
    request: (cell) => ({ agentId: cell.kind === 'self' ? '' : owner(cell).id, name: 'matrix', expiresInDays: 1 }),
    rest: (cell) => [
      'POST',
      '/api/sso/v1/apikeys',
      { agent_id: cell.kind === 'self' ? '' : owner(cell).id, name: 'matrix', expires_in_days: 1 },
    ],
    state: (c, cell) => liveKeys(c, owner(cell)),
  },
  {
    name: "DeleteApiKey (a key of the target's)",
    service: ApiKeyService,
    rpc: 'deleteApiKey',
    subject: 'either',
    targets: ['self', 'peer', 'strong', 'admin', 'peerAgent', 'narrowAgent', 'starAgent'],
    self: () => ALLOW,
    hidesOthers: true,
    async prepare(c, cell) {
      const t = owner(cell);
      if (t.kind === 'agent') cell.x.key = (await c.apiKey({ token: c.admin.token }, { agent_id: t.id })).id;
      else cell.x.key = (await c.apiKey({ token: (await c.login(t.identifier, t.password)).token }, {})).id;
    },
    request: (cell) => ({ id: cell.x.key }),
    rest: (cell) => ['DELETE', `/api/sso/v1/apikeys/${cell.x.key}`],
    async state(c, cell) {
      const r = await c.asAdmin('GET', `/api/sso/v1/apikeys/${cell.x.key}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.revoked_at ?? null;
    },
  },
];

/** Refused with GRANT_EXCEEDS_CALLER when the caller holds the permission, else for lack of it. */
const grantBeyond = (_a: Actor, holds: boolean) => (holds ? deny(Code.PermissionDenied, 'GRANT_EXCEEDS_CALLER') : DENIED);
const adminBeyond = (_a: Actor, holds: boolean) => (holds ? deny(Code.PermissionDenied, 'ADMIN_REQUIRED') : DENIED);

const otherRows: Row[] = [
  {
    name: 'CreateUser',
    service: DirectoryService,
    rpc: 'createUser',
    targets: ['none'],
    async prepare(c, cell) {
      cell.x.identifier = `made${c.next()}@example.com`;
    },
    request: (cell) => ({ identifier: cell.x.identifier }),
    rest: (cell) => ['POST', '/api/sso/v1/users', { identifier: cell.x.identifier }],
    state: (c) => total(c, '/api/sso/v1/users'),
  },
  {
    name: 'CreateUser is_admin=true',
    service: DirectoryService,
    rpc: 'createUser',
    targets: ['none'],
    refine: adminBeyond,
    async prepare(c, cell) {
      cell.x.identifier = `made${c.next()}@example.com`;
    },
    request: (cell) => ({ identifier: cell.x.identifier, isAdmin: true }),
    rest: (cell) => ['POST', '/api/sso/v1/users', { identifier: cell.x.identifier, is_admin: true }],
    state: (c) => total(c, '/api/sso/v1/users'),
  },
  {
    name: 'CreateUser scopes=[delete:users] (beyond create:users)',
    service: DirectoryService,
    rpc: 'createUser',
    targets: ['none'],
    refine: grantBeyond,
    async prepare(c, cell) {
      cell.x.identifier = `made${c.next()}@example.com`;
    },
    request: (cell) => ({ identifier: cell.x.identifier, scopes: ['delete:users'] }),
    rest: (cell) => ['POST', '/api/sso/v1/users', { identifier: cell.x.identifier, scopes: ['delete:users'] }],
    state: (c) => total(c, '/api/sso/v1/users'),
  },
  {
    name: 'CreateUser roles=[deleter] (a role granting delete:users)',
    service: DirectoryService,
    rpc: 'createUser',
    targets: ['none'],
    refine: grantBeyond,
    async prepare(c, cell) {
      cell.x.identifier = `made${c.next()}@example.com`;
    },
    request: (cell) => ({ identifier: cell.x.identifier, roles: ['deleter'] }),
    rest: (cell) => ['POST', '/api/sso/v1/users', { identifier: cell.x.identifier, roles: ['deleter'] }],
    state: (c) => total(c, '/api/sso/v1/users'),
  },
  {
    name: 'UpdateUser peer scopes=[delete:users] (beyond update:users)',
    service: DirectoryService,
    rpc: 'updateUser',
    targets: ['peer'],
    refine: grantBeyond,
    request: (cell) => ({ id: user(cell).id, scopes: ['delete:users'], updateMask: { paths: ['scopes'] } }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { scopes: ['delete:users'] }],
    state: (c, cell) => userState(c, user(cell).id),
  },
  {
    name: 'UpdateUser peer roles=[deleter]',
    service: DirectoryService,
    rpc: 'updateUser',
    targets: ['peer'],
    refine: grantBeyond,
    request: (cell) => ({ id: user(cell).id, roles: ['deleter'], updateMask: { paths: ['roles'] } }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { roles: ['deleter'] }],
    state: (c, cell) => userState(c, user(cell).id),
  },
  {
    name: 'UpdateUser peer is_admin=true',
    service: DirectoryService,
    rpc: 'updateUser',
    targets: ['peer'],
    refine: adminBeyond,
    request: (cell) => ({ id: user(cell).id, isAdmin: true }),
    rest: (cell) => ['PATCH', `/api/sso/v1/users/${user(cell).id}`, { is_admin: true }],
    state: (c, cell) => userState(c, user(cell).id),
  },
  {
    name: 'CreateAgent scopes=[create:agents]',
    service: AgentService,
    rpc: 'createAgent',
    targets: ['none'],
    request: () => ({ name: 'Made', scopes: ['create:agents'] }),
    rest: () => ['POST', '/api/sso/v1/agents', { name: 'Made', scopes: ['create:agents'] }],
    state: (c) => total(c, '/api/sso/v1/agents'),
  },
  {
    name: 'CreateAgent scopes=[*]',
    service: AgentService,
    rpc: 'createAgent',
    targets: ['none'],
    refine: grantBeyond,
    request: () => ({ name: 'Made', scopes: ['*'] }),
    rest: () => ['POST', '/api/sso/v1/agents', { name: 'Made', scopes: ['*'] }],
    state: (c) => total(c, '/api/sso/v1/agents'),
  },
  {
    name: 'UpdateAgent peer agent scopes=[*]',
    service: AgentService,
    rpc: 'updateAgent',
    targets: ['peerAgent'],
    refine: grantBeyond,
    request: (cell) => ({ id: agent(cell).id, scopes: ['*'], updateMask: { paths: ['scopes'] } }),
    rest: (cell) => ['PATCH', `/api/sso/v1/agents/${agent(cell).id}`, { scopes: ['*'] }],
    state: (c, cell) => agentState(c, agent(cell).id),
  },
  {
    name: 'CreateRole scopes=[read:roles]',
    service: DirectoryService,
    rpc: 'createRole',
    targets: ['none'],
    async prepare(c, cell) {
      cell.x.slug = `made-${c.next()}`;
    },
    request: (cell) => ({ name: 'Made', slug: cell.x.slug, scopes: ['read:roles'] }),
    rest: (cell) => ['POST', '/api/sso/v1/roles', { name: 'Made', slug: cell.x.slug, scopes: ['read:roles'] }],
    state: (c) => total(c, '/api/sso/v1/roles'),
  },
  {
    name: 'CreateRole scopes=[delete:users]',
    service: DirectoryService,
    rpc: 'createRole',
    targets: ['none'],
    refine: grantBeyond,
    async prepare(c, cell) {
      cell.x.slug = `made-${c.next()}`;
    },
    request: (cell) => ({ name: 'Made', slug: cell.x.slug, scopes: ['delete:users'] }),
    rest: (cell) => ['POST', '/api/sso/v1/roles', { name: 'Made', slug: cell.x.slug, scopes: ['delete:users'] }],
    state: (c) => total(c, '/api/sso/v1/roles'),
  },
  {
    name: 'UpdateRole scopes=[delete:users]',
    service: DirectoryService,
    rpc: 'updateRole',
    targets: ['none'],
    refine: grantBeyond,
    async prepare(c, cell) {
      cell.x.role = (await c.ok('POST', '/api/sso/v1/roles', { name: 'Target', slug: `target-${c.next()}`, scopes: [] })).id;
    },
    request: (cell) => ({ id: cell.x.role, scopes: ['delete:users'], updateMask: { paths: ['scopes'] } }),
    rest: (cell) => ['PATCH', `/api/sso/v1/roles/${cell.x.role}`, { scopes: ['delete:users'] }],
    state: async (c, cell) => (await c.asAdmin('GET', `/api/sso/v1/roles/${cell.x.role}`)).body.scopes,
  },
  {
    name: 'RotateSigningKey',
    service: AuthService,
    rpc: 'rotateSigningKey',
    targets: ['none'],
    request: () => ({}),
    rest: () => ['POST', '/api/sso/v1/keys/rotate', {}],
    state: async (c) => (await c.asAdmin('GET', '/api/sso/v1/keys')).body.items.map((k: any) => k.kid).sort(),
  },
  {
    name: 'CreateApp',
    service: AppRegistryService,
    rpc: 'createApp',
    targets: ['none'],
    async prepare(c, cell) {
      cell.x.name = `App ${c.next()}`;
    },
    request: (cell) => ({ name: cell.x.name }),
    rest: (cell) => ['POST', '/api/sso/v1/apps', { name: cell.x.name }],
    state: (c) => total(c, '/api/sso/v1/apps'),
  },
  {
    name: 'DeleteApp',
    service: AppRegistryService,
    rpc: 'deleteApp',
    targets: ['none'],
    async prepare(c, cell) {
      cell.x.app = (await c.ok('POST', '/api/sso/v1/apps', { name: `Doomed ${c.next()}` })).id;
    },
    request: (cell) => ({ id: cell.x.app }),
    rest: (cell) => ['DELETE', `/api/sso/v1/apps/${cell.x.app}`],
    state: async (c, cell) => (await c.asAdmin('GET', `/api/sso/v1/apps/${cell.x.app}`)).status,
  },
  {
    // Who must sign in with a second factor: administrators only. A role nobody holds each time,
    // so the change is seen and no other test's logins are held.
    name: 'UpdateMfaPolicy (administrators only)',
    service: FactorService,
    rpc: 'updateMfaPolicy',
    targets: ['none'],
    async prepare(c, cell) {
      cell.x.role = `matrix-${c.next()}`;
    },
    request: (cell) => ({ policy: { requiredRoles: [cell.x.role] } }),
    rest: (cell) => ['PUT', '/api/sso/v1/mfa-policy', { required_roles: [cell.x.role] }],
    state: async (c) => (await c.ok('GET', '/api/sso/v1/mfa-policy')).required_roles,
  },
  {
    name: 'CreateLegacyUser (administrators only)',
    service: DirectoryService,
    rpc: 'createLegacyUser',
    targets: ['none'],
    async prepare(c, cell) {
      cell.x.n = c.next();
    },
    request: (cell) => ({ username: `legacy${cell.x.n}`, email: `legacy${cell.x.n}@example.com`, password: PASSWORD }),
    rest: (cell) => [
      'POST',
      '/users/',
      { username: `legacy${cell.x.n}`, email: `legacy${cell.x.n}@example.com`, password: PASSWORD, is_admin: false },
    ],
    state: (c) => total(c, '/api/sso/v1/users'),
  },
  {
    name: 'CreateApiKey for itself, scopes=[delete:users] (beyond its own)',
    service: ApiKeyService,
    rpc: 'createApiKey',
    targets: ['none'],
    refine: () => deny([Code.PermissionDenied, Code.InvalidArgument], 'SCOPES_EXCEED_OWNER', 'GRANT_EXCEEDS_CALLER'),
    request: () => ({ name: 'beyond', scopes: ['delete:users'], expiresInDays: 1 }),
    rest: () => ['POST', '/api/sso/v1/apikeys', { name: 'beyond', scopes: ['delete:users'], expires_in_days: 1 }],
    state: (c, cell) => {
      const who = cell.actor.user ?? cell.actor.agent;
      return who ? liveKeys(c, who) : total(c, '/api/sso/v1/apikeys');
    },
    actors: ['anonymous', 'plain', 'holder', 'apikey', 'agent'],
  },
  {
    // Logout ends the caller's own session: every signed-in user may (a fresh session each time).
    name: 'Logout',
    service: AuthService,
    rpc: 'logout',
    targets: ['none'],
    actors: ['anonymous', 'plain', 'admin'],
    async prepare(c, cell) {
      if (cell.actor.kind === 'admin') cell.actor = { ...cell.actor, token: (await c.login(c.admin.identifier, c.admin.password)).token };
    },
    request: () => ({}),
    rest: () => ['POST', '/api/sso/v1/auth/logout'],
    state: async (c, cell) =>
      cell.actor.token ? (await c.call('GET', '/api/sso/v1/me', { token: cell.actor.token })).status : 'no session',
  },
];

// --- the policy --------------------------------------------------------------------------------

function permissionOf(row: Row): { permission: string; adminOnly: boolean } {
  const a = accessOf(row.service, row.rpc);
  // An administrators-only RPC declares no permission: its callers hold `*`, the most a
  // non-administrator can hold, and are refused all the same.
  return { permission: a.admin ? '*' : a.permission, adminOnly: a.admin };
}

function policy(row: Row, actor: Actor, cell: Cell): Expected {
  const { permission, adminOnly } = permissionOf(row);
  if (actor.kind === 'anonymous') return deny(Code.Unauthenticated, 'UNAUTHENTICATED'); // P1
  const o = row.override?.(actor, cell);
  if (o) return o;
  if (actor.isAdmin) {
    // P2
    return cell.kind === 'self' && row.lastAdmin ? deny(Code.FailedPrecondition, 'LAST_ADMIN') : ALLOW;
  }
  if (adminOnly) return deny(Code.PermissionDenied, 'ADMIN_REQUIRED');
  const holds = permission === '' || within(actor.scopes, [permission]);
  if (row.refine) return row.refine(actor, holds, cell); // P4
  if (cell.kind === 'none') return holds ? ALLOW : DENIED;
  if (cell.kind === 'self') return row.self!(actor, holds); // P5, P6
  const t = cell.target!;
  if (!holds) {
    return row.hidesOthers
      ? deny([Code.PermissionDenied, Code.NotFound], 'PERMISSION_DENIED', 'API_KEY_NOT_FOUND', 'SESSION_NOT_FOUND')
      : DENIED;
  }
  if (t.isAdmin) return deny(Code.PermissionDenied, 'ADMIN_REQUIRED'); // P2
  if (!within(actor.scopes, t.grants)) {
    // P3
    return deny(Code.PermissionDenied, 'TARGET_EXCEEDS_CALLER');
  }
  return ALLOW;
}

/** Whether a cell exists: "self" needs a caller of the row's subject kind. */
function applies(row: Row, actor: ActorKind, kind: TargetKind): boolean {
  if (row.actors && !row.actors.includes(actor)) return false;
  if (kind !== 'self') return true;
  if (actor === 'anonymous') return false;
  if (row.subject === 'user') return actor !== 'agent';
  if (row.subject === 'agent') return actor === 'agent';
  return true;
}

// --- running a cell ----------------------------------------------------------------------------

const httpStatus: Partial<Record<Code, number>> = {
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.InvalidArgument]: 400,
  [Code.FailedPrecondition]: 400,
};

interface Outcome {
  ok: boolean;
  status: string;
  reason?: string;
  message?: string;
}

let server: TestServer;
let cast: Cast;
const actorCache = new Map<string, Actor>();
let cellCount = 0;
/** A workspace whose role `ws-deleter` grants `delete:users`. */
let workspace: string;
const tally = { allow: 0, deny: 0 };

async function actorFor(kind: ActorKind, permission: string, fresh: boolean): Promise<Actor> {
  if (fresh && kind !== 'admin') return cast.actor(kind, permission);
  const key = `${kind}|${permission}`;
  let a = actorCache.get(key);
  if (!a) actorCache.set(key, (a = await cast.actor(kind, permission)));
  return kind === 'admin' ? { ...a, token: cast.admin.token } : a;
}

async function targetFor(row: Row, actor: Actor, kind: TargetKind): Promise<UserP | AgentP | undefined> {
  switch (kind) {
    case 'none':
      return undefined;
    case 'self':
      return row.subject === 'agent' ? actor.agent : (actor.user ?? actor.agent);
    case 'peer':
      return cast.user();
    case 'strong':
      return cast.user({ scopes: ['delete:users'] });
    case 'roleStrong':
      return cast.user({ roles: ['deleter'], grants: ['delete:users'] });
    case 'wsStrong': {
      const u = await cast.user({ grants: ['delete:users'] });
      await cast.ok('POST', `/api/sso/v1/workspaces/${workspace}/members`, { user_id: u.id, roles: ['ws-deleter'] });
      return u;
    }
    case 'admin':
      return cast.user({ isAdmin: true, grants: ['*'] });
    case 'peerAgent':
      return cast.agent([]);
    case 'narrowAgent':
      return cast.agent(['read:users']);
    case 'starAgent':
      return cast.agent(['*']);
  }
}

async function viaConnect(cell: Cell): Promise<Outcome> {
  const { actor, row } = cell;
  const client = server.client(row.service, actor.token ? { token: actor.token } : actor.apiKey ? { apiKey: actor.apiKey } : {}) as any;
  try {
    await client[row.rpc](row.request(cell));
    return { ok: true, status: 'ok' };
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    return { ok: false, status: Code[e.code], reason: e.findDetails(ErrorInfoSchema)[0]?.reason, message: e.rawMessage };
  }
}

async function viaRest(cell: Cell): Promise<Outcome> {
  const { actor, row } = cell;
  const [method, path, json] = row.rest(cell);
  const r = await cast.call(method, path, { token: actor.token, apiKey: actor.apiKey, json });
  return { ok: r.status === 200, status: String(r.status), reason: r.body?.error_code, message: r.body?.message };
}

async function runCell(row: Row, actorKind: ActorKind, kind: TargetKind, surface: 'connect' | 'rest'): Promise<void> {
  const { permission } = permissionOf(row);
  const lastAdminCell = actorKind === 'admin' && kind === 'self' && row.lastAdmin;
  if (lastAdminCell) await cast.onlyFirstAdmin();
  const actor = await actorFor(actorKind, permission, kind === 'self');
  const cell: Cell = { row, actor, kind, x: {} };
  cell.target = await targetFor(row, actor, kind);
  await row.prepare?.(cast, cell);
  cell.x.oldPassword = (cell.target as UserP | undefined)?.password;
  const want = policy(row, cell.actor, cell);
  const before = await row.state(cast, cell);
  const got = surface === 'connect' ? await viaConnect(cell) : await viaRest(cell);
  // Whatever the verdict, keep knowing the first administrator's password.
  if (got.ok && row.sets && cell.target === cast.admin) cast.admin.password = row.sets(cell);
  const after = await row.state(cast, cell);
  cellCount++;
  const what = `${surface} ${row.name} | ${actorKind}${permission && !['anonymous', 'plain', 'admin'].includes(actorKind) ? `[${permission}]` : ''} -> ${kind}`;
  const gotText = got.ok ? 'allowed' : `${got.status} ${got.reason} (${got.message})`;
  // MATRIX_TABLE=1 prints every cell: what the policy says and what the server answered.
  if (process.env.MATRIX_TABLE)
    console.log(
      `cell ;; ${what} ;; ${want.allow ? 'allow' : want.reasons.join('|')} ;; ${got.ok ? 'allowed' : `${got.status} ${got.reason}`}`,
    );
  if (want.allow) {
    tally.allow++;
    assert.ok(got.ok, `${what}: policy allows, got ${gotText}`);
    assert.notDeepEqual(after, before, `${what}: allowed, but the administrator sees no change`);
  } else {
    tally.deny++;
    const statuses = want.codes.map((c) => (surface === 'connect' ? Code[c] : String(httpStatus[c])));
    assert.ok(
      !got.ok,
      `${what}: policy refuses (${want.reasons.join('|')}), but it was allowed; before ${JSON.stringify(before)} after ${JSON.stringify(after)}`,
    );
    assert.ok(statuses.includes(got.status), `${what}: want ${statuses.join('|')} ${want.reasons.join('|')}, got ${gotText}`);
    if (want.reasons.length)
      assert.ok(want.reasons.includes(got.reason ?? ''), `${what}: want reason ${want.reasons.join('|')}, got ${gotText}`);
    assert.deepEqual(after, before, `${what}: refused, but the target changed`);
  }
}

// --- the tests ---------------------------------------------------------------------------------

before(async () => {
  // Lockout is not under test here, and the cells check many old passwords from one address.
  server = await startTestServer({ loginMaxFailuresPerIp: 100_000 });
  cast = new Cast(server);
  await cast.bootstrap();
  await cast.ok('POST', '/api/sso/v1/roles', { name: 'Deleter', slug: 'deleter', scopes: ['delete:users'] });
  workspace = (await cast.ok('POST', '/api/sso/v1/workspaces', { name: 'Matrix', slug: 'matrix' })).id;
  await cast.ok('POST', '/api/sso/v1/roles', { name: 'WS deleter', slug: 'ws-deleter', scopes: ['delete:users'], workspace_id: workspace });
});
after(async () => {
  await server?.stop();
});

describe('the table', () => {
  test('every non-public RPC that changes something is in the table, or named here with where it is covered', () => {
    const inTable = new Set([...principalRows, ...otherRows].map((r) => `${r.service.typeName}.${r.rpc}`));
    const elsewhere: Record<string, string> = {
      // Workspaces and app assignment act on workspaces and apps, not on a principal's grants or
      // credentials (the brief leaves them out); their permission table is
      // test/services/directory-authorization.test.ts and apps-registry.test.ts.
      'sso.directory.v1.DirectoryService.createWorkspace': 'directory-authorization',
      'sso.directory.v1.DirectoryService.updateWorkspace': 'directory-authorization',
      'sso.directory.v1.DirectoryService.deleteWorkspace': 'directory-authorization',
      'sso.directory.v1.DirectoryService.addWorkspaceMember': 'directory-authorization',
      'sso.directory.v1.DirectoryService.updateWorkspaceMember': 'directory-authorization',
      'sso.directory.v1.DirectoryService.removeWorkspaceMember': 'directory-authorization',
      'sso.directory.v1.DirectoryService.deleteRole': 'directory-authorization',
      'sso.appregistry.v1.AppRegistryService.updateApp': 'apps-registry',
      'sso.appregistry.v1.AppRegistryService.rotateAppApiKey': 'apps-registry',
      'sso.appregistry.v1.AppRegistryService.rotateAppClientSecret': "an app's OAuth client secret (update:apps): an app, not a principal",
      'sso.appregistry.v1.AppRegistryService.assignAppUser': 'apps-registry',
      'sso.appregistry.v1.AppRegistryService.unassignAppUser': 'apps-registry',
      'sso.appregistry.v1.AppRegistryService.createLegacyApp': 'apps-asf-seed',
      'sso.appregistry.v1.AppRegistryService.assignLegacyUser': 'apps-asf-seed',
      // A user's own factors (access self: on the caller alone, never on another principal;
      // adding needs the session, removing proof of a factor): test/factors/*.
      'sso.auth.v1.FactorService.createTotp': 'own factors',
      'sso.auth.v1.FactorService.confirmTotp': 'own factors',
      'sso.auth.v1.FactorService.deleteTotp': 'own factors',
      'sso.auth.v1.FactorService.regenerateRecoveryCodes': 'own factors',
      'sso.auth.v1.FactorService.createPasskeyOptions': 'own factors',
      'sso.auth.v1.FactorService.createPasskey': 'own factors',
      'sso.auth.v1.FactorService.updatePasskey': 'own factors',
      'sso.auth.v1.FactorService.deletePasskey': 'own factors',
    };
    const mutating = [DirectoryService, AgentService, ApiKeyService, AppRegistryService, AuthService, FactorService].flatMap((s) =>
      s.methods
        .filter((m) => !/^(get|list|verify)/.test(m.localName) && !accessOf(s, m.localName).public)
        .map((m) => `${s.typeName}.${m.localName}`),
    );
    const missing = mutating.filter((m) => !inTable.has(m) && !elsewhere[m]);
    assert.deepEqual(missing, []);
  });

  test('the permissions come from the protos', () => {
    assert.equal(permissionOf(principalRows[0]!).permission, 'update:users');
    assert.equal(permissionOf(principalRows.find((r) => r.rpc === 'createAgentKey')!).permission, 'update:agents');
    assert.equal(permissionOf(principalRows.find((r) => r.rpc === 'updateLegacyUser')!).adminOnly, true);
  });
});

for (const row of [...principalRows, ...otherRows]) {
  for (const surface of row.restToo ? (['connect', 'rest'] as const) : (['connect'] as const)) {
    test(`${row.name} over ${surface}`, async (t: TestContext) => {
      for (const kind of row.targets) {
        for (const actorKind of ACTORS) {
          if (!applies(row, actorKind, kind)) continue;
          await t.test(`${actorKind} -> ${kind}`, () => runCell(row, actorKind, kind, surface));
        }
      }
    });
  }
}

// --- P6: a key never outlives or outgrows the credential that made it ----------------------------

describe('API keys made by API keys (finding 3)', () => {
  let owner: UserP;
  let ownerToken: string;
  const mine = () => cast.asAdmin('GET', `/api/sso/v1/apikeys?user_id=${owner.id}&limit=100`);

  before(async () => {
    owner = await cast.user({ scopes: ['create:apikeys', 'read:users'] });
    ownerToken = (await cast.login(owner.identifier, owner.password)).token;
  });

  test('an expiring key cannot make a never-expiring key, nor one that outlives it; nothing is made', async () => {
    const parent = await cast.apiKey({ token: ownerToken }, { scopes: ['create:apikeys'], expires_in_days: 30 });
    const count = (await mine()).body.total;
    for (const days of [0, 3650, 31]) {
      const r = await cast.call('POST', '/api/sso/v1/apikeys', {
        apiKey: parent.key,
        json: { name: 'child', scopes: ['create:apikeys'], expires_in_days: days },
      });
      assert.equal(r.status, 400, `expires_in_days ${days}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error_code, 'KEY_OUTLIVES_PARENT');
    }
    // The same over Connect.
    const rpc = server.client(ApiKeyService, { apiKey: parent.key });
    await assert.rejects(
      rpc.createApiKey({ name: 'child', scopes: ['create:apikeys'], expiresInDays: 0 }),
      (e: any) => e instanceof ConnectError && e.code === Code.InvalidArgument,
    );
    assert.equal((await mine()).body.total, count);
    // Within its life it may.
    const child = await cast.call('POST', '/api/sso/v1/apikeys', {
      apiKey: parent.key,
      json: { name: 'child', scopes: ['create:apikeys'], expires_in_days: 7 },
    });
    assert.equal(child.status, 200, JSON.stringify(child.body));
    assert.ok(Date.parse(child.body.expires_at) <= Date.now() + 30 * 86_400_000 + 60_000);
  });

  test("a key's child holds at most the key's scopes, not its owner's", async () => {
    const parent = await cast.apiKey({ token: ownerToken }, { scopes: ['create:apikeys'], expires_in_days: 30 });
    // Without scopes, a key's child either takes at most the key's scopes or is refused (the
    // owner's scopes, the default for a key made by a signed-in user, are more than the key holds).
    const count = (await mine()).body.total;
    const child = await cast.call('POST', '/api/sso/v1/apikeys', { apiKey: parent.key, json: { name: 'child', expires_in_days: 1 } });
    if (child.status === 200) assert.ok(within(['create:apikeys'], child.body.scopes), `child scopes ${child.body.scopes}`);
    else {
      assert.ok([400, 403].includes(child.status), `${child.status} ${JSON.stringify(child.body)}`);
      assert.equal((await mine()).body.total, count);
    }
    const explicit = await cast.call('POST', '/api/sso/v1/apikeys', {
      apiKey: parent.key,
      json: { name: 'child', scopes: ['create:apikeys'], expires_in_days: 1 },
    });
    assert.equal(explicit.status, 200, JSON.stringify(explicit.body));
    const count2 = (await mine()).body.total;
    const beyond = await cast.call('POST', '/api/sso/v1/apikeys', {
      apiKey: parent.key,
      json: { name: 'child', scopes: ['read:users'], expires_in_days: 1 },
    });
    assert.ok([400, 403].includes(beyond.status), `${beyond.status} ${JSON.stringify(beyond.body)}`);
    assert.equal((await mine()).body.total, count2);
  });

  test('finding 3 as reported: key → never-expiring key → 10-year key; revoking the first ends all three', async () => {
    const a = await cast.apiKey({ token: ownerToken }, { scopes: ['create:apikeys'], expires_in_days: 0 });
    const b = await cast.apiKey({ apiKey: a.key }, { scopes: ['create:apikeys'], expires_in_days: 0 });
    const c = await cast.apiKey({ apiKey: b.key }, { scopes: ['create:apikeys'], expires_in_days: 3650 });
    for (const k of [a, b, c]) assert.equal((await cast.call('GET', '/api/sso/v1/apikeys', { apiKey: k.key })).status, 200);
    assert.equal((await cast.call('DELETE', `/api/sso/v1/apikeys/${a.id}`, { token: ownerToken })).status, 200);
    for (const [name, k] of [
      ['parent', a],
      ['child', b],
      ['grandchild', c],
    ] as const) {
      const r = await cast.call('GET', '/api/sso/v1/apikeys', { apiKey: k.key });
      assert.equal(r.status, 401, `${name} after the parent's revocation: ${r.status} ${JSON.stringify(r.body)}`);
      const rpc = server.client(ApiKeyService, { apiKey: k.key });
      await assert.rejects(rpc.listApiKeys({}), (e: any) => e instanceof ConnectError && e.code === Code.Unauthenticated, name);
    }
  });

  test("a scoped key acts with its own scopes, not its owner's: it cannot touch what only the owner covers", async () => {
    const boss = await cast.user({ scopes: ['update:users', 'delete:users'] });
    const { token } = await cast.login(boss.identifier, boss.password);
    const key = await cast.apiKey({ token }, { scopes: ['update:users'], expires_in_days: 1 });
    const strong = await cast.user({ scopes: ['delete:users'] });
    const before = await userState(cast, strong.id);
    const byKey = await cast.call('PATCH', `/api/sso/v1/users/${strong.id}`, { apiKey: key.key, json: { is_active: false } });
    assert.deepEqual([byKey.status, byKey.body?.error_code], [403, 'TARGET_EXCEEDS_CALLER'], JSON.stringify(byKey.body));
    await assert.rejects(
      server.client(DirectoryService, { apiKey: key.key }).updateUser({ id: strong.id, isActive: false }),
      (e: any) => e instanceof ConnectError && e.code === Code.PermissionDenied,
    );
    assert.deepEqual(await userState(cast, strong.id), before);
    // The owner's own token covers it.
    assert.equal((await cast.call('PATCH', `/api/sso/v1/users/${strong.id}`, { token, json: { is_active: false } })).status, 200);
  });

  test('what a credential begot ends with it: agent tokens with their key, keys with their owner', async () => {
    // An agent token from an Ed25519 key dies with the key.
    const bot = await cast.agent(['read:users']);
    const { kid, privateKey } = await cast.agentKey(bot.id);
    const fromKey = (await cast.agentLogin(bot.id, kid, privateKey)).body.access_token;
    assert.equal((await cast.call('GET', '/api/sso/v1/users?limit=1', { token: fromKey })).status, 200);
    assert.equal((await cast.asAdmin('DELETE', `/api/sso/v1/agents/${bot.id}/keys/${kid}`)).status, 200);
    assert.equal((await cast.call('GET', '/api/sso/v1/users?limit=1', { token: fromKey })).status, 401);
    // An agent token from client credentials (an agent API key) dies with the API key.
    const secret = await cast.apiKey({ token: cast.admin.token }, { agent_id: bot.id });
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: bot.id, client_secret: secret.key });
    const res = await server.rest('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    assert.equal(res.status, 200);
    const fromSecret = ((await res.json()) as any).access_token;
    assert.equal((await cast.call('GET', '/api/sso/v1/users?limit=1', { token: fromSecret })).status, 200);
    assert.equal((await cast.asAdmin('DELETE', `/api/sso/v1/apikeys/${secret.id}`)).status, 200);
    assert.equal((await cast.call('GET', '/api/sso/v1/users?limit=1', { token: fromSecret })).status, 401);
    // A user's keys stop with the user's deactivation.
    const u = await cast.user({ scopes: ['read:users'] });
    const key = await cast.apiKey({ token: (await cast.login(u.identifier, u.password)).token }, { expires_in_days: 1 });
    assert.equal((await cast.call('GET', '/api/sso/v1/users?limit=1', { apiKey: key.key })).status, 200);
    assert.equal((await cast.asAdmin('PATCH', `/api/sso/v1/users/${u.id}`, { is_active: false })).status, 200);
    assert.ok([401, 403].includes((await cast.call('GET', '/api/sso/v1/users?limit=1', { apiKey: key.key })).status));
  });

  test("an API key cannot change its owner's password, even with the current password", async () => {
    const key = await cast.apiKey({ token: ownerToken }, { scopes: ['create:apikeys'], expires_in_days: 1 });
    const r = await cast.call('PATCH', `/api/sso/v1/users/${owner.id}`, {
      apiKey: key.key,
      json: { password: NEW_PASSWORD, current_password: owner.password },
    });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.ok(await cast.passwordWorks(owner.identifier, owner.password));
    assert.ok(!(await cast.passwordWorks(owner.identifier, NEW_PASSWORD)));
  });
});

// --- issue 9's findings 1, 2 and 6 over REST, exactly as reported --------------------------------

describe('the reported attacks, over REST', () => {
  test("finding 1: update:users cannot set an administrator's password, nor deactivate one", async () => {
    const victim = await cast.user({ isAdmin: true });
    const attacker = await cast.user({ scopes: ['update:users'] });
    const { token } = await cast.login(attacker.identifier, attacker.password);
    const set = await cast.call('PATCH', `/api/sso/v1/users/${victim.id}`, { token, json: { password: 'Attacker123!x' } });
    assert.deepEqual([set.status, set.body?.error_code], [403, 'ADMIN_REQUIRED'], JSON.stringify(set.body));
    const takeover = await cast.call('POST', '/api/sso/v1/auth/login', {
      json: { identifier: victim.identifier, secret: 'Attacker123!x' },
    });
    assert.equal(takeover.status, 401);
    assert.ok(await cast.passwordWorks(victim.identifier, victim.password));
    const off = await cast.call('PATCH', `/api/sso/v1/users/${victim.id}`, { token, json: { is_active: false } });
    assert.deepEqual([off.status, off.body?.error_code], [403, 'ADMIN_REQUIRED'], JSON.stringify(off.body));
    assert.deepEqual(await userState(cast, victim.id), { active: true, admin: true, scopes: [], direct: [], roles: [] });
  });

  test('finding 2: update:agents cannot register a key on a `*` agent, so no `*` token', async () => {
    const star = await cast.agent(['*']);
    const attacker = await cast.user({ scopes: ['update:agents'] });
    const { token } = await cast.login(attacker.identifier, attacker.password);
    const pair = generateKeyPairSync('ed25519');
    const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
    const before = await agentState(cast, star.id);
    const reg = await cast.call('POST', `/api/sso/v1/agents/${star.id}/keys`, { token, json: { jwk } });
    assert.deepEqual([reg.status, reg.body?.error_code], [403, 'TARGET_EXCEEDS_CALLER'], JSON.stringify(reg.body));
    assert.deepEqual(await agentState(cast, star.id), before);
    const login = await cast.agentLogin(star.id, await calculateJwkThumbprint(jwk), pair.privateKey);
    assert.equal(login.status, 401, JSON.stringify(login.body));
    // With read:users too it still may not; with `*`-covering scopes only an administrator may.
    const narrow = await cast.agent(['read:users']);
    const reg2 = await cast.call('POST', `/api/sso/v1/agents/${narrow.id}/keys`, { token, json: { jwk } });
    assert.deepEqual([reg2.status, reg2.body?.error_code], [403, 'TARGET_EXCEEDS_CALLER'], JSON.stringify(reg2.body));
    const both = await cast.user({ scopes: ['update:agents', 'read:users'] });
    const reg3 = await cast.call('POST', `/api/sso/v1/agents/${narrow.id}/keys`, {
      token: (await cast.login(both.identifier, both.password)).token,
      json: { jwk },
    });
    assert.equal(reg3.status, 200, JSON.stringify(reg3.body));
  });

  test("finding 6: one's own password changes only with the current password", async () => {
    assert.ok(
      UpdateUserRequestSchema.fields.some((f) => f.localName === 'currentPassword'),
      'gen/ has UpdateUserRequest.current_password',
    );
    const me = await cast.user();
    const { token } = await cast.login(me.identifier, me.password);
    for (const body of [{ password: NEW_PASSWORD }, { password: NEW_PASSWORD, current_password: 'WrongPassword1!' }]) {
      const r = await cast.call('PATCH', `/api/sso/v1/users/${me.id}`, { token, json: body });
      assert.ok([400, 401, 403].includes(r.status), `${JSON.stringify(body)}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.ok(await cast.passwordWorks(me.identifier, me.password));
    }
    const ok = await cast.call('PATCH', `/api/sso/v1/users/${me.id}`, {
      token,
      json: { password: NEW_PASSWORD, current_password: me.password },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.ok(await cast.passwordWorks(me.identifier, NEW_PASSWORD));
    assert.ok(!(await cast.passwordWorks(me.identifier, me.password)));
  });

  test("P5: a plain user reads itself and its own sessions, and no one else's", async () => {
    const me = await cast.user();
    const peer = await cast.user();
    const { token, sessionId } = await cast.login(me.identifier, me.password);
    const rpc = server.client(AuthService, { token });
    assert.equal((await rpc.getMe({})).user?.id, me.id);
    assert.ok((await rpc.listSessions({})).items.some((s) => s.id === sessionId));
    assert.equal((await cast.call('GET', `/api/sso/v1/users/${me.id}`, { token })).status, 200);
    for (const path of [
      `/api/sso/v1/sessions?user_id=${peer.id}`,
      `/api/sso/v1/users/${peer.id}`,
      `/api/sso/v1/apikeys?user_id=${peer.id}`,
    ]) {
      const r = await cast.call('GET', path, { token });
      assert.equal(r.status, 403, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });

  test('P7: an agent is never "self" for a user target', async () => {
    const bare = await cast.agent([]);
    const token = await cast.agentToken(bare.id);
    const patch = await cast.call('PATCH', `/api/sso/v1/users/${bare.id}`, { token, json: { password: NEW_PASSWORD } });
    assert.equal(patch.status, 403, JSON.stringify(patch.body));
    const sessions = await cast.call('GET', `/api/sso/v1/sessions?user_id=${bare.id}`, { token });
    assert.equal(sessions.status, 403, JSON.stringify(sessions.body));
  });
});

after(() => {
  console.log(`# escalation matrix: ${cellCount} cells run (${tally.allow} allowed by the policy, ${tally.deny} refused)`);
});
