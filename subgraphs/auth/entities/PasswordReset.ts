import { EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/**
 * A one-time password-reset token mailed to a user: only its SHA-256 is stored (a copy of
 * this table resets nobody's password), it works once (`usedAt`), for 30 minutes.
 */
export class PasswordReset {
  [OptionalProps]?: 'createdAt' | 'usedAt';
  id!: string;
  userId!: string;
  tokenHash!: string;
  createdAt: Date = new Date();
  expiresAt!: Date;
  usedAt: Date | null = null;
}

export const PasswordResetSchema = new EntitySchema<PasswordReset>({
  class: PasswordReset,
  tableName: 'password_resets',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', index: 'password_resets_user_id_index' },
    tokenHash: { type: 'string', length: 64, unique: 'password_resets_token_hash_unique' },
    createdAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    expiresAt: { type: 'datetime', columnType: 'timestamptz' },
    usedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
  },
});
