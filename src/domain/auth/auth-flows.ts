import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { newTokenId, sha256Hex, type PasswordHasher } from '../../auth/index.js';
import { isAssigned } from '../../db/repositories/app-assignments.js';
import { isWorkspaceMember } from '../../db/repositories/grants.js';
import {
  findSession,
  insertSession,
  listLiveSessions,
  revokeSession,
  rotateRefresh,
  type RotatedSession,
} from '../../db/repositories/sessions.js';
import {
  findUserByAnyIdentifier,
  findUserByIdentifier,
  insertUser,
  updatePasswordHash,
  type UserRecord,
} from '../../db/repositories/users.js';
import { AppError } from '../../errors/index.js';
import type { Audiences } from '../audiences.js';
import { PASSWORD_AMR } from '../factors/amr.js';
import type { MfaTokenPurpose } from '../../db/repositories/mfa-tokens.js';
import type { LoginGate, LoginHold } from '../factors/login-gate.js';
import { checkMayActOnUser } from '../access/targets.js';
import type { AuditLog } from '../audit.js';
import { identifierCandidates, parseIdentifier, type IdentifierType } from '../identifiers.js';
import { checkNewPassword } from '../passwords-policy.js';
import type { Principal } from '../principal.js';
import type { Tokens } from '../tokens.js';
import type { UserView } from '../users/user-view.js';
import { userView } from '../users/current-user.js';
import type { Attempt, LoginGuard, PasswordCheck } from './login-guard.js';

export interface Client {
  ip: string;
  userAgent: string;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sessionId: string;
  user: UserView;
}

export interface AuthFlowsDeps {
  ds: DataSource;
  passwords: PasswordHasher;
  tokens: Tokens;
  guard: LoginGuard;
  audit: AuditLog;
  audiences: Audiences;
  allowRegistration: boolean;
  /** Holds the logins of users with a second factor (or whom a policy asks for one). */
  gate: LoginGate;
}

/** What a login answers: tokens, or a hold for its second step (see LoginGate). */
export type LoginOutcome = IssuedTokens | LoginHold;

export function isHold(o: LoginOutcome): o is LoginHold {
  return 'mfaToken' in o;
}

/**
 * The rules of signing in and out: registration, login with protection against guessing,
 * refresh-token rotation with reuse detection, logout, sessions, and the legacy admin token.
 */
export class AuthFlows {
  constructor(private readonly d: AuthFlowsDeps) {}

  /**
   * Logs in, or registers a new identifier with `register: true`. Neither path tells whether an
   * identifier exists: the caller sees the same status, body and cost for a known and an unknown
   * one (see mayRegister). Every attempt that reaches bcrypt, a registration included, is first
   * counted by the login guard (per name, account and address); a registration then costs one
   * bcrypt (the hash) as a login does (the check).
   */
  async login(
    input: { identifier: string; secret: string; register: boolean; audience: string; workspaceId: string },
    client: Client,
  ): Promise<LoginOutcome> {
    const id = parseIdentifier(input.identifier);
    const { audience, appId } = await this.d.audiences.resolveWithApp(input.audience);
    const { user, created, held } = await this.prove(id, input.secret, this.mayRegister(input.register, appId), client);
    // A token for a registered app's audience lets its holder use that app, so the user must be
    // assigned to it, as POST /verify requires (asked only after the password is proven).
    if (appId && !(await isAssigned(this.d.ds, appId, user.id))) {
      await this.d.audit.record({
        type: 'login',
        outcome: 'failure',
        actorId: user.id,
        identifier: id.value,
        reason: 'APP_NOT_ASSIGNED',
        ...client,
      });
      throw new AppError('APP_NOT_ASSIGNED');
    }
    const workspaceId = await this.selectWorkspace(user, input.workspaceId);
    if (held) {
      // The password is right but it is not enough: no tokens, an mfa_token for the second step.
      return this.hold(user, held, { identifier: id.value, audience, workspaceId }, client);
    }
    return this.finishLogin(
      user,
      { audience, workspaceId, amr: PASSWORD_AMR, identifier: id.value, type: created ? 'register' : 'login' },
      client,
    );
  }

  /**
   * Starts the API session of a login whose every step is proven (the password, and the second
   * factor where one was asked), and audits it: with `amr` saying how the user signed in.
   */
  async finishLogin(
    user: UserRecord,
    login: { audience: string; workspaceId: string | null; amr: readonly string[]; identifier: string; type?: string },
    client: Client,
  ): Promise<IssuedTokens> {
    const issued = await this.startSession(user, login.audience, login.workspaceId, client, login.amr);
    await this.d.audit.record({
      type: login.type ?? 'login',
      outcome: 'success',
      actorId: user.id,
      identifier: login.identifier,
      ...client,
    });
    return issued;
  }

  /**
   * A sign-in proven without a password (a passkey): login's rules for the account, the audience
   * (assignment to its app) and the workspace, then the session.
   */
  async loginProven(
    user: UserRecord,
    input: { audience: string; workspaceId: string },
    amr: readonly string[],
    identifier: string,
    client: Client,
  ): Promise<IssuedTokens> {
    if (!user.isActive) {
      await this.d.audit.record({ type: 'login', outcome: 'failure', actorId: user.id, identifier, reason: 'USER_INACTIVE', ...client });
      throw new AppError('USER_INACTIVE');
    }
    const { audience, appId } = await this.d.audiences.resolveWithApp(input.audience);
    if (appId && !(await isAssigned(this.d.ds, appId, user.id))) {
      await this.d.audit.record({ type: 'login', outcome: 'failure', actorId: user.id, identifier, reason: 'APP_NOT_ASSIGNED', ...client });
      throw new AppError('APP_NOT_ASSIGNED');
    }
    const workspaceId = await this.selectWorkspace(user, input.workspaceId);
    return this.finishLogin(user, { audience, workspaceId, amr, identifier }, client);
  }

  /**
   * A login whose password is right but not enough: no tokens, an mfa_token for the second step
   * (or for enrolment), audited as a success that is held.
   */
  private async hold(
    user: UserRecord,
    purpose: MfaTokenPurpose,
    login: { identifier: string; audience: string; workspaceId: string | null },
    client: Client,
  ): Promise<LoginHold> {
    const hold = await this.d.gate.hold(user.id, purpose, login);
    await this.d.audit.record({
      type: 'login',
      outcome: 'success',
      actorId: user.id,
      identifier: login.identifier,
      reason: hold.status.toUpperCase(),
      ...client,
    });
    return hold;
  }

  /**
   * The hosted sign-in page's door: login's checks (counted, locked and audited the same way),
   * or a registration where open, without starting an API session; the caller starts the
   * browser session it needs. A user who needs a second step gets a hold instead (an mfa_token,
   * as Login's), for the SSO's own audience: the page asks for the factor, and only then starts
   * the browser session.
   */
  async signIn(
    input: { identifier: string; secret: string; register: boolean },
    client: Client,
  ): Promise<{ user: UserRecord; created: boolean; hold?: LoginHold }> {
    const id = parseIdentifier(input.identifier);
    const { user, created, held } = await this.prove(id, input.secret, this.mayRegister(input.register, undefined), client);
    if (held) {
      const hold = await this.hold(
        user,
        held,
        { identifier: id.value, audience: this.d.audiences.defaultAudience, workspaceId: null },
        client,
      );
      return { user, created, hold };
    }
    await this.d.audit.record({
      type: created ? 'register' : 'login',
      outcome: 'success',
      actorId: user.id,
      identifier: id.value,
      ...client,
    });
    return { user, created };
  }

  /**
   * Proves the password of an identifier (or registers it): counted before any password work.
   * `held` says the login needs a second step (see LoginGate); then the counts are not lifted
   * yet, so that a known password cannot reset the account's count of wrong codes: the second
   * step lifts them when it succeeds.
   */
  private async prove(
    id: { type: IdentifierType; value: string },
    secret: string,
    registering: boolean,
    client: Client,
  ): Promise<{ user: UserRecord; created: boolean; held: 'mfa' | 'enroll' | undefined }> {
    // The policy is checked before anything is looked up, so a weak password is the same 400
    // whether or not the identifier exists (it is not a guess: no password is compared).
    if (registering) checkNewPassword(secret);
    let user = await findUserByIdentifier(this.d.ds, id.type, id.value);
    const attempt = { identifier: id.value, userId: user?.id, ip: client.ip };
    const check = await this.begin(attempt, client, 'login');
    try {
      if (check.accountLocked) await this.refuseLocked(secret, attempt, client, 'login');
      let created = false;
      if (!user && registering) {
        user = await this.register(id, secret);
        created = user !== undefined;
        // Lost a race to a concurrent registration of the same identifier: a plain login against
        // the winner (counted by name and address above; that account's count did not exist yet).
        user ??= await findUserByIdentifier(this.d.ds, id.type, id.value);
      }
      if (!created) user = await this.checkPassword(user, secret, id.value, client, 'login');
      user = user!;
      const held = created ? undefined : await this.d.gate.holdFor(user.id);
      if (!held) await check.succeeded(user.id);
      return { user, created, held };
    } finally {
      await check.end();
    }
  }

  /**
   * Whether `register: true` may create a user. Where it may not (registration disabled, or an
   * app's audience, since a new user cannot be assigned to the app yet), the flag is ignored and
   * the call is a plain login: an unknown identifier then costs the dummy bcrypt, is counted, and
   * gets the same 401 INVALID_CREDENTIALS as a wrong password, instead of a 403 that only new
   * identifiers would get. (Where registration is open, creating an account necessarily tells
   * that the identifier was free; that answer also takes the identifier.)
   */
  private mayRegister(register: boolean, appId: string | undefined): boolean {
    return register && this.d.allowRegistration && !appId;
  }

  /**
   * Creates the user for a new identifier (policy already checked); the first user of an empty
   * system becomes the administrator. Returns undefined when a concurrent registration took the
   * identifier first: the caller then checks the password against that user like any login.
   */
  private async register(id: { type: IdentifierType; value: string }, secret: string): Promise<UserRecord | undefined> {
    const passwordHash = await this.d.passwords.hash(secret);
    try {
      return await this.d.ds.transaction((tx) => insertUser(tx, { identifiers: [id], passwordHash, bootstrapAdmin: true }));
    } catch (e) {
      if (e instanceof AppError && e.reason === 'IDENTIFIER_TAKEN') return undefined;
      throw e;
    }
  }

  /** The legacy ASF admin login: only administrators get a token. */
  async adminToken(username: string, password: string, client: Client): Promise<{ accessToken: string; expiresIn: number }> {
    // A user with a second factor is refused by checkLegacyCredentials (MFA_REQUIRED).
    const { user, key } = await this.checkLegacyCredentials(username, password, client, 'token');
    if (!user.isAdmin) {
      await this.d.audit.record({
        type: 'token',
        outcome: 'failure',
        actorId: user.id,
        identifier: key,
        reason: 'ADMIN_REQUIRED',
        ...client,
      });
      throw new AppError('ADMIN_REQUIRED');
    }
    const issued = await this.startSession(user, this.d.audiences.defaultAudience, null, client);
    await this.d.audit.record({ type: 'token', outcome: 'success', actorId: user.id, identifier: key, ...client });
    return { accessToken: issued.accessToken, expiresIn: issued.expiresIn };
  }

  /**
   * The password check of the legacy ASF doors (`POST /token`, `POST /verify`): the "username"
   * may be any of the user's identifiers. Login protection counts the attempt first; throws
   * TOO_MANY_ATTEMPTS, INVALID_CREDENTIALS or USER_INACTIVE (see checkPassword). `key` is the
   * identifier the attempt was counted and audited under (and the account it reaches, if any).
   * These doors have no second step, so a user with a second factor (or whom the policy asks for
   * one) gets MFA_REQUIRED after a right password: a password alone gives no token and no
   * "Authorized" for such a user. The counts are then not lifted (see prove).
   */
  async checkLegacyCredentials(
    username: string,
    password: string,
    client: Client,
    type: string,
  ): Promise<{ user: UserRecord; key: string }> {
    const candidates = identifierCandidates(username);
    const key = candidates[0]?.value ?? username.trim().toLowerCase();
    // Looked up first so that the attempt also counts against the account the name reaches.
    const found = candidates.length ? await findUserByAnyIdentifier(this.d.ds, candidates) : undefined;
    const attempt = { identifier: key, userId: found?.id, ip: client.ip };
    const check = await this.begin(attempt, client, type);
    try {
      if (check.accountLocked) await this.refuseLocked(password, attempt, client, type);
      const user = await this.checkPassword(found, password, key, client, type);
      if (await this.d.gate.holdFor(user.id)) {
        await this.d.audit.record({ type, outcome: 'failure', actorId: user.id, identifier: key, reason: 'MFA_REQUIRED', ...client });
        throw new AppError('MFA_REQUIRED');
      }
      await check.succeeded();
      return { user, key };
    } finally {
      await check.end();
    }
  }

  /**
   * Counts a password attempt by login name and starts its check (see LoginGuard.beginByName);
   * the caller ends it in a `finally`. A refusal (TOO_MANY_ATTEMPTS) is audited as 'locked'.
   */
  private async begin(attempt: Attempt, client: Client, type: string): Promise<PasswordCheck> {
    try {
      return await this.d.guard.beginByName(attempt);
    } catch (e) {
      if (e instanceof AppError)
        await this.d.audit.record({
          type,
          outcome: 'locked',
          actorId: attempt.userId,
          identifier: attempt.identifier,
          reason: e.reason,
          ...client,
        });
      throw e;
    }
  }

  /**
   * The account is locked (through any of its names) but this name and address are not: refused
   * exactly as a wrong password is (bcrypt against the dummy hash, one audit line, 401), without
   * looking at the real password, so the lock stops the guessing without telling that this name
   * belongs to that account. Administrators see it as a 'locked' event.
   */
  private async refuseLocked(secret: string, attempt: Attempt, client: Client, type: string): Promise<never> {
    await this.d.passwords.verify(secret, undefined);
    await this.d.audit.record({
      type,
      outcome: 'locked',
      actorId: attempt.userId,
      identifier: attempt.identifier,
      reason: 'ACCOUNT_LOCKED',
      ...client,
    });
    throw new AppError('INVALID_CREDENTIALS');
  }

  /**
   * Checks a password at the same cost whether or not the user exists (bcrypt against a dummy
   * hash), so response time does not tell which identifiers are registered. Only after the
   * password is proven does the caller learn the account is inactive. Upgrades old hashes.
   */
  async checkPassword(user: UserRecord | undefined, secret: string, identifier: string, client: Client, type: string): Promise<UserRecord> {
    const { ok, needsRehash } = await this.d.passwords.verify(secret, user?.passwordHash);
    if (!ok || !user) {
      await this.d.audit.record({ type, outcome: 'failure', actorId: user?.id, identifier, reason: 'INVALID_CREDENTIALS', ...client });
      throw new AppError('INVALID_CREDENTIALS');
    }
    if (!user.isActive) {
      await this.d.audit.record({ type, outcome: 'failure', actorId: user.id, identifier, reason: 'USER_INACTIVE', ...client });
      throw new AppError('USER_INACTIVE');
    }
    if (needsRehash) await updatePasswordHash(this.d.ds, user.id, await this.d.passwords.hash(secret));
    return user;
  }

  private async selectWorkspace(user: UserRecord, workspaceId: string): Promise<string | null> {
    if (workspaceId === '') return null;
    if (!(await isWorkspaceMember(this.d.ds, user.id, workspaceId))) throw new AppError('NOT_A_WORKSPACE_MEMBER');
    return workspaceId;
  }

  private async startSession(
    user: UserRecord,
    audience: string,
    workspaceId: string | null,
    client: Client,
    amr: readonly string[] = PASSWORD_AMR,
  ): Promise<IssuedTokens> {
    const sessionId = randomUUID();
    const jti = newTokenId();
    const session = await insertSession(this.d.ds, {
      id: sessionId,
      userId: user.id,
      refreshHash: sha256Hex(jti),
      audience,
      workspaceId,
      amr: [...amr],
      userAgent: client.userAgent,
      ip: client.ip,
      ttlSeconds: this.d.tokens.settings.refreshTtl,
    });
    return this.issue(await this.view(user.id, session), session, jti);
  }

  /**
   * The user with its grants as of now (the session's workspace included): what the tokens carry.
   * Kept by the revocation cache, as GET /me's view is: a change committed before this call is seen.
   */
  private async view(userId: string, session: RotatedSession): Promise<UserView | undefined> {
    return userView(this.d.ds, userId, session.workspaceId);
  }

  private async issue(view: UserView | undefined, session: RotatedSession, refreshJti: string): Promise<IssuedTokens> {
    if (!view) throw new AppError('INVALID_TOKEN');
    const user = view;
    const [access, refreshToken] = await Promise.all([
      this.d.tokens.issueAccess({
        sub: user.id,
        aud: session.audience,
        sessionId: session.id,
        workspaceId: session.workspaceId,
        roles: view.roles,
        scopes: view.scopes,
        amr: session.amr,
      }),
      this.d.tokens.issueRefresh({ sub: user.id, aud: session.audience, sessionId: session.id, jti: refreshJti }),
    ]);
    return { accessToken: access.token, refreshToken, expiresIn: this.d.tokens.settings.accessTtl, sessionId: session.id, user: view };
  }

  /**
   * Rotates the refresh token. The presented token must be the session's current one; a retired
   * one means it was copied, so the whole session is revoked (reuse detection) and both holders
   * must log in again. The check and the rotation are one conditional UPDATE, so it holds under
   * concurrent requests. A session granted to an OpenID Connect client refreshes only for that
   * client (`oidcClientId`, authenticated by the token endpoint).
   */
  async refresh(refreshToken: string, client: Client, oidcClientId: string | null = null): Promise<IssuedTokens> {
    const claims = await this.d.tokens.verifyRefresh(refreshToken);
    const nextJti = newTokenId();
    const session = await rotateRefresh(
      this.d.ds,
      claims.session_id,
      sha256Hex(claims.jti),
      sha256Hex(nextJti),
      this.d.tokens.settings.refreshTtl,
      oidcClientId,
    );
    if (!session) {
      const existing = await findSession(this.d.ds, claims.session_id);
      if (!existing || existing.userId !== claims.sub) throw new AppError('INVALID_TOKEN');
      // Another client's refresh token (or one presented without its client) proves nothing
      // about reuse: refuse it without touching the session.
      if (existing.clientId !== oidcClientId || existing.kind === 'browser') throw new AppError('INVALID_TOKEN');
      if (existing.revokedAt) throw new AppError('SESSION_REVOKED');
      if (existing.expiresAt.getTime() <= Date.now()) throw new AppError('TOKEN_EXPIRED');
      await revokeSession(this.d.ds, existing.id, 'refresh_token_reuse');
      await this.d.audit.record({
        type: 'refresh',
        outcome: 'failure',
        actorId: existing.userId,
        reason: 'REFRESH_TOKEN_REUSED',
        ...client,
      });
      throw new AppError('REFRESH_TOKEN_REUSED');
    }
    const user = await this.view(session.userId, session);
    if (!user || !user.isActive) {
      await revokeSession(this.d.ds, session.id, 'user_inactive');
      throw new AppError(user ? 'USER_INACTIVE' : 'INVALID_TOKEN');
    }
    // An unassignment ends the app's sessions at their next refresh.
    const appId = await this.d.audiences.appOf(session.audience);
    if (appId && !(await isAssigned(this.d.ds, appId, user.id))) {
      await revokeSession(this.d.ds, session.id, 'app_unassigned');
      throw new AppError('APP_NOT_ASSIGNED');
    }
    return this.issue(user, session, nextJti);
  }

  async logout(principal: Principal): Promise<boolean> {
    if (!principal.sessionId) return false;
    return revokeSession(this.d.ds, principal.sessionId, 'logout');
  }

  listSessions(userId: string, page: { offset: number; limit: number }) {
    return listLiveSessions(this.d.ds, userId, page);
  }

  /** Revokes a session; without `mayRevokeOthers` only the caller's own (others' look absent). */
  async deleteSession(
    principal: Principal,
    sessionId: string,
    mayRevokeOthers: boolean,
    client: Client = { ip: '', userAgent: '' },
  ): Promise<boolean> {
    const session = await findSession(this.d.ds, sessionId);
    if (!session || (!mayRevokeOthers && session.userId !== principal.id)) throw new AppError('SESSION_NOT_FOUND');
    // Ending someone's session is acting on them: not on an administrator or a stronger user.
    await checkMayActOnUser(this.d.ds, principal, session.userId);
    const byUser = principal.id === session.userId;
    const revoked = await revokeSession(this.d.ds, sessionId, byUser ? 'revoked_by_user' : 'revoked_by_admin');
    // Ending another's session is an administrative act worth a trace (the console's Revoke).
    if (revoked && !byUser)
      await this.d.audit.record({
        type: 'session.revoke',
        outcome: 'success',
        actorId: principal.id,
        identifier: session.userId,
        ...client,
      });
    return revoked;
  }
}
