import type { ServiceImpl } from '@connectrpc/connect';
import { FactorService, type FactorProof, type MfaPolicy } from '../../gen/sso/auth/v1/factor_service_pb.js';
import type { PasskeyRecord } from '../db/repositories/passkeys.js';
import type { MfaPolicyRecord } from '../db/repositories/mfa-policy.js';
import { uuid } from '../domain/paging.js';
import { AppError } from '../errors/index.js';
import { callInfoOf, principalOf } from '../interceptors/call-context.js';
import type { SecondFactorServices } from '../domain/factors/factor-services.js';
import { ts, webauthnJson, webauthnStruct } from './mappers.js';

function passkey(p: PasskeyRecord) {
  return {
    id: p.id,
    name: p.name,
    createdAt: ts(p.createdAt),
    lastUsedAt: ts(p.lastUsedAt),
    deviceType: p.deviceType,
    backedUp: p.backedUp,
  };
}

function policy(p: MfaPolicyRecord) {
  return {
    requiredForAll: p.requiredForAll,
    requiredForAdmins: p.requiredForAdmins,
    requiredRoles: p.requiredRoles,
    updateTime: ts(p.updatedAt),
  };
}

function proofOf(p: FactorProof | undefined) {
  return { totpCode: p?.totpCode, recoveryCode: p?.recoveryCode, password: p?.password };
}

/** Thin handlers: proto in, domain call (domain/factors), proto out. */
export function createFactorService(d: { mfa: SecondFactorServices }): ServiceImpl<typeof FactorService> {
  const { own, admin } = d.mfa;
  return {
    async listFactors(_req, ctx) {
      const { summary, passkeys, required } = await own.list(principalOf(ctx));
      return { totp: summary.totp, passkeys: passkeys.map(passkey), recoveryCodesLeft: summary.recoveryCodesLeft, required };
    },
    async createTotp(_req, ctx) {
      return { otpauthUri: await own.startTotp(principalOf(ctx), callInfoOf(ctx)) };
    },
    async confirmTotp(req, ctx) {
      return { recoveryCodes: await own.confirmTotp(principalOf(ctx), req.code, callInfoOf(ctx)) };
    },
    async deleteTotp(req, ctx) {
      return { success: await own.deleteTotp(principalOf(ctx), proofOf(req.proof), callInfoOf(ctx)) };
    },
    async regenerateRecoveryCodes(req, ctx) {
      return { recoveryCodes: await own.regenerateCodes(principalOf(ctx), proofOf(req.proof), callInfoOf(ctx)) };
    },
    async createPasskeyOptions(_req, ctx) {
      return { options: webauthnStruct(await own.passkeyOptions(principalOf(ctx))) };
    },
    async createPasskey(req, ctx) {
      const registration = webauthnJson<Parameters<typeof own.registerPasskey>[1]>(req.registration);
      if (!registration) throw new AppError('MISSING_FIELD', 'registration is required.');
      const made = await own.registerPasskey(principalOf(ctx), registration, req.name, callInfoOf(ctx));
      return { passkey: passkey(made.passkey), recoveryCodes: made.recoveryCodes };
    },
    async updatePasskey(req, ctx) {
      return { passkey: passkey(await own.renamePasskey(principalOf(ctx), uuid(req.id), req.name, callInfoOf(ctx))) };
    },
    async deletePasskey(req, ctx) {
      return { success: await own.deletePasskey(principalOf(ctx), uuid(req.id), proofOf(req.proof), callInfoOf(ctx)) };
    },
    async resetUserFactors(req, ctx) {
      return { success: await admin.reset(principalOf(ctx), uuid(req.userId, 'user_id'), callInfoOf(ctx)) };
    },
    async getMfaPolicy() {
      return { policy: policy(await admin.policy()) };
    },
    async updateMfaPolicy(req, ctx) {
      const p: MfaPolicy | undefined = req.policy;
      if (!p) throw new AppError('MISSING_FIELD', 'policy is required.');
      return {
        policy: policy(
          await admin.setPolicy(
            principalOf(ctx),
            {
              requiredForAll: p.requiredForAll,
              requiredForAdmins: p.requiredForAdmins,
              requiredRoles: p.requiredRoles,
            },
            callInfoOf(ctx),
          ),
        ),
      };
    },
  };
}
