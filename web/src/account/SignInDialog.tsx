import { useEffect, useRef } from 'react';
import type { SessionUser } from '../api/session-store';
import { signOut } from '../api/sign-out';
import { SignInForm } from './SignInForm';

/**
 * Over the page whose session ended (refused refresh: signed out everywhere, password
 * changed elsewhere, deactivated, or idle past the refresh token's life). The page stays
 * mounted underneath, so a half-typed form keeps its text, and the call that found the
 * session ended runs once the user is back (api/authorized.ts).
 */
export function SignInDialog({ user }: { user: SessionUser }) {
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="session-ended-title"
      // Escape would leave a page whose every call waits for this sign-in.
      onCancel={(event) => event.preventDefault()}
    >
      <h2 id="session-ended-title">Your session has ended</h2>
      <p>Sign in again to carry on. What you typed stays on the page, and what you were sending goes once you are back.</p>
      <SignInForm initialEmail={user.email} />
      <p className="small">
        Not {user.name}?{' '}
        <button type="button" className="link-button" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    </dialog>
  );
}
