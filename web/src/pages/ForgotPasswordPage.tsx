import { useState, type FormEvent } from 'react';
import { useAnonymousMutation } from '../api/hooks';
import { TextField } from '../components/Field';
import { ErrorMessage } from '../components/status';
import { RequestPasswordResetDocument } from '../generated/graphql';
import { Link } from '../router';

/**
 * Asks auth to mail a reset link. The answer is the same whether the account exists (auth
 * answers true either way, in the same time), so this page cannot tell anyone who has one.
 */
export function ForgotPasswordPage() {
  const request = useAnonymousMutation(RequestPasswordResetDocument);
  const [email, setEmail] = useState('');
  const [missing, setMissing] = useState<string>();
  const [sentTo, setSentTo] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = email.trim();
    setMissing(trimmed ? undefined : 'Enter your email.');
    if (!trimmed) return;
    if (await request.run({ email: trimmed })) setSentTo(trimmed);
  };

  return (
    <section className="panel" aria-labelledby="forgot-title">
      <h1 id="forgot-title">Forgot your password?</h1>
      {sentTo ? (
        <p className="notice success" role="status">
          If there is an account for {sentTo}, we have mailed it a link to choose a new password. The link works once, for 30 minutes.
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <p className="muted">Enter the email you sign in with; we mail you a link to choose a new password.</p>
          <TextField label="Email" type="email" name="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} error={missing} required />
          {request.error && <ErrorMessage error={request.error} />}
          <button type="submit" className="primary" disabled={request.running}>
            {request.running ? 'Sending…' : 'Mail me a link'}
          </button>
        </form>
      )}
      <p>
        <Link to="/login">Back to sign in</Link>
      </p>
    </section>
  );
}
