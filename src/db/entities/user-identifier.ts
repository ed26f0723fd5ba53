import { EntitySchema } from 'typeorm';
import type { User } from './user.js';

export type IdentifierType = 'email' | 'phone' | 'username';

/** One way a user is known: an e-mail address, a phone number or a username (stored normalized). */
export class UserIdentifier {
  declare id: string;
  declare userId: string;
  declare type: IdentifierType;
  /** Normalized by the application before it reaches the database; unique per type. */
  declare value: string;
  declare verified: boolean;
  declare isPrimary: boolean;
  declare createdAt: Date;
  declare user?: User;
}

export const UserIdentifierSchema = new EntitySchema<UserIdentifier>({
  name: 'UserIdentifier',
  target: UserIdentifier,
  tableName: 'user_identifiers',
  columns: {
    id: { name: 'id', type: 'uuid', primary: true, generated: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    type: { name: 'type', type: 'text' },
    value: { name: 'value', type: 'text' },
    verified: { name: 'verified', type: 'boolean', default: false },
    isPrimary: { name: 'is_primary', type: 'boolean', default: false },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true, default: () => 'now()' },
  },
  relations: {
    user: {
      type: 'many-to-one',
      target: 'User',
      inverseSide: 'identifiers',
      joinColumn: { name: 'user_id', referencedColumnName: 'id' },
      onDelete: 'CASCADE',
    },
  },
  uniques: [{ name: 'user_identifiers_type_value_key', columns: ['type', 'value'] }],
});
