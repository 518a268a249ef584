import type { KeyObject } from 'node:crypto';
import type { MailQueue } from '@popug/lib/mail';
import type { SubgraphContext } from '@popug/lib/subgraph/context';

/** What auth's resolvers need beyond the common context. */
export interface AuthServices {
  mailQueue: MailQueue;
  signingKey: KeyObject;
  tokenTtlSeconds: number;
}

export type AuthContext = SubgraphContext<AuthServices>;
