import { LogoutDocument, LogoutEverywhereDocument } from '../generated/graphql';
import { authorized } from './authorized';
import { endBrowserSession } from './browser-session';
import { execute } from './client';
import { heldToken, signedOut } from './session-store';

/**
 * Ends this session: the `logout` mutation, then the gateway clears the refresh cookie. This
 * tab and the others in the browser go to the sign-in page whatever the server answered: a
 * session that could not be ended over the network still has no token left here.
 */
export async function signOut(): Promise<void> {
  // Not `authorized`: a session that already ended must not ask for a sign-in in order to sign out.
  const token = heldToken();
  if (token) await execute(LogoutDocument, {}, { token }).catch(() => undefined);
  await endBrowserSession().catch(() => undefined);
  signedOut({ tellOtherTabs: true });
}

/** Ends every session of the user, on every device. Throws (and signs nothing out here) when the server refused. */
export async function signOutEverywhere(): Promise<void> {
  await authorized(LogoutEverywhereDocument, {});
  await endBrowserSession().catch(() => undefined);
  signedOut({ tellOtherTabs: true });
}
