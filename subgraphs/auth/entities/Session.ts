import { EntitySchema, OptionalProps } from '@mikro-orm/postgresql';

/** Why a session ended; kept for the user's and an operator's questions, never shown to a client. */
export type SessionEndReason = 'logout' | 'logout_everywhere' | 'refresh_reuse' | 'password_changed' | 'password_reset' | 'deactivated' | 'reactivated';

/**
 * One signed-in device: the access tokens it is given name it (`sid`), and its refresh
 * token is `<id>.<secret>`. Only hashes of secrets are stored: the current one, and the one
 * it replaced, so presenting that again is recognised as reuse of a stolen copy
 * (services/session-store.ts). An ended session never comes back.
 */
export class Session {
  [OptionalProps]?: 'previousSecretHash' | 'createdAt' | 'refreshedAt' | 'endedAt' | 'endReason';
  id!: string;
  userId!: string;
  secretHash!: string;
  previousSecretHash: string | null = null;
  createdAt: Date = new Date();
  refreshedAt: Date = new Date();
  /** The refresh token stops working at this time unless rotated before (REFRESH_TTL_SECONDS from the last rotation). */
  expiresAt!: Date;
  endedAt: Date | null = null;
  endReason: SessionEndReason | null = null;
}

export const SessionSchema = new EntitySchema<Session>({
  class: Session,
  tableName: 'sessions',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', index: 'sessions_user_id_index' },
    secretHash: { type: 'string', length: 64 },
    previousSecretHash: { type: 'string', length: 64, nullable: true },
    createdAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    refreshedAt: { type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' },
    expiresAt: { type: 'datetime', columnType: 'timestamptz' },
    endedAt: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    endReason: { type: 'string', length: 32, nullable: true },
  },
});
