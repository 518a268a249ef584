import { useId, useState, type FormEvent } from 'react';
import { useAnonymousMutation } from '../api/hooks';
import { signedIn } from '../api/session-store';
import { CredentialFields, type Credentials } from '../components/CredentialFields';
import { ErrorMessage } from '../components/status';
import { SignInDocument } from '../generated/graphql';

/**
 * Email and password, sent as `login` with the browser-session header: the gateway keeps the
 * refresh token in its cookie and answers the access token, which api/session-store.ts holds.
 */
export function SignInForm({ initialEmail = '' }: { initialEmail?: string }) {
  const errorId = useId();
  const login = useAnonymousMutation(SignInDocument);
  const [credentials, setCredentials] = useState<Credentials>({ email: initialEmail, password: '' });
  const [missing, setMissing] = useState<Partial<Credentials>>({});

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const email = credentials.email.trim();
    const problems = { email: email ? undefined : 'Enter your email.', password: credentials.password ? undefined : 'Enter your password.' };
    setMissing(problems);
    if (problems.email || problems.password) return;
    const result = await login.run({ email, password: credentials.password });
    if (result) signedIn(result.login);
  };

  return (
    <form onSubmit={submit} noValidate aria-describedby={login.error ? errorId : undefined}>
      <CredentialFields
        purpose="sign-in"
        values={credentials}
        errors={missing}
        onChange={(field, value) => setCredentials({ ...credentials, [field]: value })}
      />
      {login.error && (
        <div id={errorId}>
          <ErrorMessage error={login.error} />
        </div>
      )}
      <button type="submit" className="primary" disabled={login.running}>
        {login.running ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
