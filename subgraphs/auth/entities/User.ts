import { EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/** A user as auth owns it: the source of truth for identity, role and the active flag. */
export class User {
  [OptionalProps]?: 'active' | 'revision' | 'createdAt' | 'updatedAt';
  id!: string;
  email!: string;
  name!: string;
  passwordHash!: string;
  role!: string;
  active: boolean = true;
  /** Grows with every change, so replicas can keep the newest copy. */
  revision: number = 1;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true, defaultRaw: 'gen_random_uuid()' },
    email: { type: 'string', length: 320 },
    name: { type: 'string', length: 200 },
    passwordHash: { type: 'string', length: 255 },
    role: { type: 'string', length: 64, index: true },
    active: { type: 'boolean', default: true },
    revision: { type: 'integer', default: 1 },
    createdAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
  indexes: [{ name: 'users_email_lower_unique', expression: 'create unique index "users_email_lower_unique" on "users" (lower("email"))' }],
});
