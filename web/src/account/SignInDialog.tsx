import { useEffect, useRef, type ReactNode } from 'react';
import type { SessionEnd, SessionUser } from '../api/session-store';
import { signOut } from '../api/sign-out';
import { SignInForm } from './SignInForm';

/**
 * Over the page whose session ended (refused refresh: signed out everywhere, password
 * changed elsewhere, idle past the refresh token's life; or found ended at a reload). The
 * page stays underneath, its forms' drafts kept (components/use-draft.ts), and the call that
 * found the session ended runs once the user is back (api/authorized.ts). A deactivated
 * account is told so, with no sign-in form: signing in cannot succeed.
 */
export function SignInDialog({ user, reason }: { user: SessionUser; reason: SessionEnd }) {
  return reason === 'deactivated' ? (
    <SessionDialog title="Your account has been deactivated">
      <p>An admin deactivated the account {user.email}, so it cannot sign in or act. Ask an admin if you think this is a mistake.</p>
      <button type="button" className="primary" onClick={() => void signOut()}>
        Sign out
      </button>
    </SessionDialog>
  ) : (
    <SessionDialog title="Your session has ended">
      <p>Sign in again to carry on. What you typed stays on the page, and what you were sending goes once you are back.</p>
      <SignInForm initialEmail={user.email} />
      <p className="small">
        Not {user.name}?{' '}
        <button type="button" className="link-button" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    </SessionDialog>
  );
}

function SessionDialog({ title, children }: { title: string; children: ReactNode }) {
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
      // Escape would leave a page whose every call waits for this dialog.
      onCancel={(event) => event.preventDefault()}
    >
      <h2 id="session-ended-title">{title}</h2>
      {children}
    </dialog>
  );
}
