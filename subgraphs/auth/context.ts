import type { MailQueue } from '@popug/lib/mail';
import type { SubgraphContext } from '@popug/lib/subgraph/context';
import type { PasswordResetMailer } from './services/password-reset-mail';
import type { SessionKeys } from './services/session';

/** What auth's resolvers need beyond the common context. */
export interface AuthServices {
  mailQueue: MailQueue;
  sessionKeys: SessionKeys;
  passwordResets: PasswordResetMailer;
}

export type AuthContext = SubgraphContext<AuthServices>;
