import type { KeyObject } from 'node:crypto';
import type { MailQueue, SubgraphContext } from '@popug/lib';

/** What auth's resolvers need beyond the common context. */
export interface AuthServices {
  mailQueue: MailQueue;
  signingKey: KeyObject;
  tokenTtlSeconds: number;
}

export type AuthContext = SubgraphContext<AuthServices>;
