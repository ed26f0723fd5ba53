import { EntitySchema } from 'typeorm';

/**
 * A JWT signing key. It signs from `activatesAt` until `retiredAt` and stays in the JWKS until
 * `unpublishAt`, so a new key is published before it signs and an old one outlives its tokens.
 */
export class SigningKey {
  declare kid: string;
  declare alg: string;
  declare publicJwk: Record<string, unknown>;
  /** Encrypted with the configured key secret; never plaintext at rest. */
  declare privateKeyEncrypted: string;
  declare createdAt: Date;
  declare activatesAt: Date;
  declare retiredAt: Date | null;
  declare unpublishAt: Date | null;
}

export const SigningKeySchema = new EntitySchema<SigningKey>({
  name: 'SigningKey',
  target: SigningKey,
  tableName: 'signing_keys',
  columns: {
    kid: { name: 'kid', type: 'text', primary: true },
    alg: { name: 'alg', type: 'text' },
    publicJwk: { name: 'public_jwk', type: 'jsonb' },
    privateKeyEncrypted: { name: 'private_key_encrypted', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true, default: () => 'now()' },
    activatesAt: { name: 'activates_at', type: 'timestamptz' },
    retiredAt: { name: 'retired_at', type: 'timestamptz', nullable: true },
    unpublishAt: { name: 'unpublish_at', type: 'timestamptz', nullable: true },
  },
});
