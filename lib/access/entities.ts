import { EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/**
 * Tables every subgraph keeps for itself: the roles it knows, what each role may do
 * here, and (outside auth) its local copy of the company directory.
 */
export class Role {
  [OptionalProps]?: 'createdAt';
  name!: string;
  createdAt: Date = new Date();
}

export const RoleSchema = new EntitySchema<Role>({
  class: Role,
  tableName: 'roles',
  properties: {
    name: { type: 'string', primary: true, length: 64 },
    createdAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});

export class RolePermission {
  [OptionalProps]?: 'grantedAt';
  role!: string;
  permission!: string;
  grantedAt: Date = new Date();
}

export const RolePermissionSchema = new EntitySchema<RolePermission>({
  class: RolePermission,
  tableName: 'role_permissions',
  properties: {
    role: { type: 'string', primary: true, length: 64 },
    permission: { type: 'string', primary: true, length: 64 },
    grantedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});

/** A subgraph's local copy of a user: filled by requests and by the replicator. */
export class LocalUser {
  [OptionalProps]?: 'active' | 'revision' | 'updatedAt';
  id!: string;
  email!: string;
  name!: string;
  role!: string;
  active: boolean = true;
  /** auth's revision of this user: a copy never goes back to an older one. */
  revision: number = 0;
  updatedAt: Date = new Date();
}

export const LocalUserSchema = new EntitySchema<LocalUser>({
  class: LocalUser,
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    email: { type: 'string', length: 320 },
    name: { type: 'string', length: 200 },
    role: { type: 'string', length: 64, index: true },
    active: { type: 'boolean', default: true },
    revision: { type: 'integer', default: 0 },
    updatedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
  },
});

export const accessEntities = [RoleSchema, RolePermissionSchema];
export const replicaUserEntities = [LocalUserSchema];
