import { useEffect, useState, type FormEvent } from 'react';
import { DASHBOARDS, useAccess } from '../access';
import { useMutation } from '../api/hooks';
import { CredentialFields, type Credentials } from '../components/CredentialFields';
import { ErrorMessage } from '../components/status';
import { LoginDocument } from '../generated/graphql';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session-context';

/** Only our own pages are followed after a login: `next` never leads off the site. */
function safeNext(next: string | null): string | null {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : null;
}

export function LoginPage() {
  const { query } = useLocation();
  const { session, signIn } = useSession();
  const access = useAccess();
  const login = useMutation(LoginDocument);
  const [credentials, setCredentials] = useState<Credentials>({ email: query.get('registered') ?? '', password: '' });
  const [missing, setMissing] = useState<Partial<Credentials>>({});
  const next = safeNext(query.get('next'));
  const expired = query.get('reason') === 'expired';
  const registered = query.get('registered');

  // Signed in: go where the user was headed, else to the first dashboard their role may open.
  useEffect(() => {
    if (!session) return;
    if (next) navigate(next, { replace: true });
    else if (access !== null) navigate(DASHBOARDS.find((dashboard) => access[dashboard.id])?.path ?? '/tracker', { replace: true });
  }, [session, access, next]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const email = credentials.email.trim();
    const problems = { email: email ? undefined : 'Enter your email.', password: credentials.password ? undefined : 'Enter your password.' };
    setMissing(problems);
    if (problems.email || problems.password) return;
    const result = await login.run({ email, password: credentials.password });
    if (result) signIn({ token: result.login.token, expiresAt: result.login.expiresAt, user: result.login.user });
  };

  if (session) return <p role="status">Signed in. Opening your dashboard…</p>;

  return (
    <section className="panel" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      {expired && (
        <p className="notice" role="status">
          Your session has ended. Sign in again to continue.
        </p>
      )}
      {registered && (
        <p className="notice success" role="status">
          Your account is ready. Sign in with the password you just chose.
        </p>
      )}
      <form onSubmit={submit} noValidate aria-describedby={login.error ? 'login-error' : undefined}>
        <CredentialFields
          purpose="sign-in"
          values={credentials}
          errors={missing}
          onChange={(field, value) => setCredentials({ ...credentials, [field]: value })}
        />
        {login.error && (
          <div id="login-error">
            <ErrorMessage error={login.error} />
          </div>
        )}
        <button type="submit" className="primary" disabled={login.running}>
          {login.running ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p>
        New here? <Link to={next ? `/register?next=${encodeURIComponent(next)}` : '/register'}>Create an account</Link>
      </p>
    </section>
  );
}
