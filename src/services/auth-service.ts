import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import type { DataSource } from 'typeorm';
import type { AuditLog } from '../domain/audit.js';
import type { SecondFactorServices } from '../domain/factors/factor-services.js';
import { isHold, type AuthFlows, type IssuedTokens, type LoginOutcome } from '../domain/auth/auth-flows.js';
import type { CredentialChecker } from '../domain/auth/authenticator.js';
import type { KeyInfo, KeyStore } from '../domain/keys/key-store.js';
import { clientCredentialsOf } from '../domain/oauth/client-credentials.js';
import type { TokenEndpoint } from '../domain/oauth/token-endpoint.js';
import type { TokenAdmin } from '../domain/oidc/token-admin.js';
import { userInfo } from '../domain/oidc/userinfo.js';
import { currentUserView } from '../domain/users/current-user.js';
import { page, uuid } from '../domain/paging.js';
import { callInfoOf, principalOf } from '../interceptors/call-context.js';
import { holds } from '../interceptors/authorization.js';
import { AppError } from '../errors/index.js';
import { toUser, ts, webauthnJson, webauthnStruct } from './mappers.js';
import { timestampDate } from '@bufbuild/protobuf/wkt';

/** The domain objects the Auth handlers call (built once, in server/deps.ts), and the pool UserInfo reads. */
export interface AuthServiceDeps {
  ds: DataSource;
  tokenEndpoint: TokenEndpoint;
  tokenAdmin: TokenAdmin;
  mfa: SecondFactorServices;
  flows: AuthFlows;
  credentials: CredentialChecker;
  keys: KeyStore;
  audit: AuditLog;
}

/** The login answer, a superset every USSO client reads (top-level tokens and `tokens`). */
function loginResponse(t: IssuedTokens) {
  return {
    accessToken: t.accessToken,
    refreshToken: t.refreshToken,
    tokenType: 'Bearer',
    expiresIn: t.expiresIn,
    sessionId: t.sessionId,
    user: toUser(t.user),
    tokens: { access: t.accessToken, refresh: t.refreshToken },
  };
}

/**
 * A login that needs its second step: the status, the mfa_token and what the step offers, and no
 * tokens (the login response's token fields stay empty).
 */
function loginOutcome(o: LoginOutcome) {
  if (!isHold(o)) return loginResponse(o);
  return { status: o.status, mfaToken: o.mfaToken, secondStep: { factors: o.factors, expiresIn: o.expiresIn } };
}

function signingKey(k: KeyInfo) {
  return {
    kid: k.kid,
    alg: k.alg,
    status: k.status,
    createdAt: ts(k.createdAt),
    activatesAt: ts(k.activatesAt),
    retiredAt: ts(k.retiredAt),
    unpublishAt: ts(k.unpublishAt),
  };
}

/** Thin handlers: proto in, domain call, proto out. */
export function createAuthService(d: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const { tokenEndpoint: oauth, tokenAdmin } = d;
  return {
    async login(req, ctx) {
      const outcome = await d.flows.login(
        {
          identifier: req.identifier,
          secret: req.secret,
          register: req.register,
          audience: req.audience,
          workspaceId: req.workspaceId ? uuid(req.workspaceId, 'workspace_id') : '',
        },
        callInfoOf(ctx),
      );
      return loginOutcome(outcome);
    },
    async completeLogin(req, ctx) {
      const done = await d.mfa.completion.complete(
        req.mfaToken,
        {
          totpCode: req.totpCode || undefined,
          recoveryCode: req.recoveryCode || undefined,
          passkeyAssertion: webauthnJson(req.passkeyAssertion),
          passkeyRegistration: webauthnJson(req.passkeyRegistration),
          passkeyName: req.passkeyName,
        },
        callInfoOf(ctx),
      );
      return { ...loginResponse(done), recoveryCodes: done.recoveryCodes };
    },
    async enrollLoginFactor(req, ctx) {
      const started = await d.mfa.completion.enroll(req.mfaToken, req.kind, callInfoOf(ctx));
      return {
        otpauthUri: started.otpauthUri ?? '',
        passkeyOptions: started.passkeyOptions === undefined ? undefined : webauthnStruct(started.passkeyOptions),
      };
    },
    async createPasskeyChallenge(req) {
      return { options: webauthnStruct(await d.mfa.completion.passkeyChallenge(req.mfaToken)) };
    },
    async loginWithPasskey(req, ctx) {
      const assertion = webauthnJson<Parameters<typeof d.mfa.completion.passkeyLogin>[0]>(req.assertion);
      if (!assertion) throw new AppError('MISSING_FIELD', 'assertion is required.');
      return loginResponse(
        await d.mfa.completion.passkeyLogin(
          assertion,
          { audience: req.audience, workspaceId: req.workspaceId ? uuid(req.workspaceId, 'workspace_id') : '' },
          callInfoOf(ctx),
        ),
      );
    },
    async refresh(req, ctx) {
      return loginResponse(await d.flows.refresh(req.refreshToken, callInfoOf(ctx)));
    },
    async logout(_req, ctx) {
      return { success: await d.flows.logout(principalOf(ctx)) };
    },
    async getMe(_req, ctx) {
      return { user: toUser(await currentUserView(d.ds, principalOf(ctx))) };
    },
    async verifyToken(req) {
      const { claims, isAdmin, kind } = await d.credentials.checkAccessToken(req.token);
      return {
        claims: {
          ...claims,
          tokenType: claims.token_type,
          sessionId: claims.session_id ?? '',
          workspaceId: claims.workspace_id ?? '',
          ...(kind === 'agent' ? { agentId: claims.sub } : { userId: claims.sub }),
          isAdmin,
        },
      };
    },
    async listSessions(req, ctx) {
      const principal = principalOf(ctx);
      const userId = req.userId ? uuid(req.userId, 'user_id') : principal.id;
      const p = page(req.offset, req.limit);
      const { items, total } = await d.flows.listSessions(userId, p);
      return {
        items: items.map((s) => ({
          id: s.id,
          userId: s.userId,
          createdAt: ts(s.createdAt),
          lastUsedAt: ts(s.lastUsedAt),
          expiresAt: ts(s.expiresAt),
          userAgent: s.userAgent ?? '',
          ip: s.ip ?? '',
          current: s.id === principal.sessionId,
          audience: s.audience,
          workspaceId: s.workspaceId ?? '',
        })),
        total,
        ...p,
      };
    },
    async deleteSession(req, ctx) {
      const principal = principalOf(ctx);
      return { success: await d.flows.deleteSession(principal, uuid(req.id), holds(principal, 'delete:sessions'), callInfoOf(ctx)) };
    },
    async createToken(req, ctx) {
      const { accessToken, expiresIn } = await d.flows.adminToken(req.username, req.password, callInfoOf(ctx));
      return { accessToken, tokenType: 'bearer', expiresIn };
    },
    async listSigningKeys() {
      return { items: d.keys.list().map(signingKey) };
    },
    async rotateSigningKey() {
      return { key: signingKey(await d.keys.rotate()) };
    },
    async listAuditEvents(req) {
      const p = page(req.offset, req.limit);
      const { items, total } = await d.audit.list(
        {
          actorId: req.actorId ? uuid(req.actorId, 'actor_id') : undefined,
          outcome: req.outcome || undefined,
          after: req.occurredAfter ? timestampDate(req.occurredAfter) : undefined,
          before: req.occurredBefore ? timestampDate(req.occurredBefore) : undefined,
        },
        p,
      );
      return {
        items: items.map((e) => ({
          id: e.id,
          occurredAt: ts(e.occurredAt),
          type: e.type,
          outcome: e.outcome,
          actorId: e.actorId ?? '',
          identifier: e.identifier ?? '',
          ip: e.ip ?? '',
          userAgent: e.userAgent ?? '',
          reason: String(e.detail?.reason ?? ''),
        })),
        total,
        ...p,
      };
    },
    async issueToken(req, ctx) {
      // RFC 6749 section 5.1: token responses are never cached.
      ctx.responseHeader.set('cache-control', 'no-store');
      ctx.responseHeader.set('pragma', 'no-cache');
      const t = await oauth.issue(
        {
          grantType: req.grantType,
          clientId: req.clientId,
          clientSecret: req.clientSecret,
          scope: req.scope,
          refreshToken: req.refreshToken,
          audience: req.audience,
          code: req.code,
          redirectUri: req.redirectUri,
          codeVerifier: req.codeVerifier,
          authorization: ctx.requestHeader.get('authorization'),
        },
        callInfoOf(ctx),
      );
      return {
        accessToken: t.accessToken,
        tokenType: 'Bearer',
        expiresIn: t.expiresIn,
        scope: t.scope,
        ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
        ...(t.idToken ? { idToken: t.idToken } : {}),
      };
    },
    async revokeToken(req, ctx) {
      const credentials = clientCredentialsOf(ctx.requestHeader.get('authorization'), req);
      await tokenAdmin.revoke({ token: req.token, hint: req.tokenTypeHint, credentials });
      return {};
    },
    async introspectToken(req, ctx) {
      ctx.responseHeader.set('cache-control', 'no-store');
      const credentials = clientCredentialsOf(ctx.requestHeader.get('authorization'), req);
      return tokenAdmin.introspect({ token: req.token, hint: req.tokenTypeHint, credentials });
    },
    async getUserInfo(_req, ctx) {
      ctx.responseHeader.set('cache-control', 'no-store');
      const claims = await userInfo(d.ds, principalOf(ctx));
      return {
        sub: claims.sub,
        email: claims.email,
        emailVerified: claims.email_verified,
        name: claims.name,
        preferredUsername: claims.preferred_username,
        phoneNumber: claims.phone_number,
        phoneNumberVerified: claims.phone_number_verified,
        updatedAt: claims.updated_at,
      };
    },
  };
}
