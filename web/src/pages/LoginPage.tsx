import { useEffect } from 'react';
import { DASHBOARDS, useAccess } from '../access';
import { SignInForm } from '../account/SignInForm';
import { Loading } from '../components/status';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session-context';

/** Only our own pages are followed after a login: `next` never leads off the site. */
function safeNext(next: string | null): string | null {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : null;
}

export function LoginPage() {
  const { query } = useLocation();
  const session = useSession();
  const access = useAccess();
  const next = safeNext(query.get('next'));
  const registered = query.get('registered');
  const passwordReset = query.get('reset') === 'done';

  // Signed in: go where the user was headed, else to the first dashboard their role may open.
  useEffect(() => {
    if (session.status !== 'signed-in') return;
    if (next) navigate(next, { replace: true });
    else if (access !== null) navigate(DASHBOARDS.find((dashboard) => access[dashboard.id])?.path ?? '/tracker', { replace: true });
  }, [session.status, access, next]);

  if (session.status === 'starting') return <Loading label="Opening your session…" />;
  if (session.status === 'signed-in') return <p role="status">Signed in. Opening your dashboard…</p>;

  return (
    <section className="panel" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      {registered && (
        <p className="notice success" role="status">
          Your account is ready. Sign in with the password you just chose.
        </p>
      )}
      {passwordReset && (
        <p className="notice success" role="status">
          Your password is changed and every session of your account has ended. Sign in with the new password.
        </p>
      )}
      <SignInForm initialEmail={registered ?? ''} />
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to={next ? `/register?next=${encodeURIComponent(next)}` : '/register'}>Create an account</Link>
      </p>
    </section>
  );
}
