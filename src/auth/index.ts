// Public API of the auth module: the only place that touches jose, bcrypt
// and node:crypto for hashing/encryption.
export { PasswordHasher, BCRYPT_MAX_PASSWORD_BYTES, bcryptCost } from './passwords.js';
export {
  SIGNING_ALGS,
  isSigningAlg,
  generateSigningKey,
  encryptPrivateKey,
  decryptPrivateKey,
  importSigningKey,
  importVerifyKey,
  publicMembers,
} from './signing-keys.js';
export type { SigningAlg, GeneratedKey, KeyLike, JWK } from './signing-keys.js';
export { TokenError, signJwt, verifyJwt, looksLikeJwt, newTokenId } from './tokens.js';
export type { TokenErrorReason, SigningKeyRef, VerifyJwtOptions } from './tokens.js';
export { bearerToken } from './bearer.js';
export { sha256Hex, safeEqualHex, generateApiKey, parseApiKey } from './secrets.js';
export { loadKeySecret, MIN_KEY_SECRET_LENGTH, KEY_SECRET_FILE } from './key-secret.js';
export { newTotpSecret, totpUri, totpStepOf, totpCode, sealTotpSecret, openTotpSecret, TOTP_PERIOD_SECONDS } from './totp.js';
export { newRecoveryCode, normalizeRecoveryCode, newMfaToken } from './one-time-codes.js';
