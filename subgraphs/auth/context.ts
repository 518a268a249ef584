import type { KeyObject } from 'node:crypto';
import type { MailQueue, SubgraphContext } from '@popug/lib';

/** What auth's resolvers need beyond the common context. */
export interface AuthServices {
  mailQueue: MailQueue;
  signingKey: KeyObject;
  tokenTtlSeconds: number;
}

export interface AuthContext extends SubgraphContext<AuthServices> {
  /** The user a public mutation (register, login) just answered about: they may read their own fields. */
  subjectUserId?: string;
}
