import { useEffect, useState, type FormEvent } from 'react';
import { NewPasswordFields } from '../account/NewPasswordFields';
import { newPasswordProblems, type NewPassword, type NewPasswordErrors } from '../account/password-rules';
import { useAnonymousMutation } from '../api/hooks';
import { ErrorMessage } from '../components/status';
import { ResetPasswordDocument } from '../generated/graphql';
import { Link, navigate } from '../router';

/** The token of the mailed link, `/reset-password#token=…`: in the fragment, it never reaches a server log or a Referer. */
function tokenFromFragment(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
}

/** Sets a new password with the mailed link's one-time token; every session of the account ends, then the user signs in. */
export function ResetPasswordPage() {
  const [token] = useState(tokenFromFragment);
  const reset = useAnonymousMutation(ResetPasswordDocument);
  const [draft, setDraft] = useState<NewPassword>({ password: '', confirmation: '' });
  const [errors, setErrors] = useState<NewPasswordErrors>({});
  const [submitted, setSubmitted] = useState(false);

  // Nor in this tab's history, once read.
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
  }, []);

  const update = (field: keyof NewPassword, value: string) => {
    const next = { ...draft, [field]: value };
    setDraft(next);
    if (submitted) setErrors(newPasswordProblems(next));
    if (reset.error?.field === 'password' && field === 'password') reset.reset();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    const problems = newPasswordProblems(draft);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    if (await reset.run({ token, password: draft.password })) navigate('/login?reset=done');
  };

  const tokenRefused = !token || (reset.error?.code === 'BAD_USER_INPUT' && reset.error.field === 'token');
  const passwordRefused = reset.error?.code === 'BAD_USER_INPUT' && reset.error.field === 'password' ? reset.error.message : undefined;

  return (
    <section className="panel" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      {tokenRefused ? (
        <div className="error" role="alert">
          <p>
            This link does not work (any more): a reset link works once, for 30 minutes. Open the latest mail, or ask for a new link.
          </p>
          <Link to="/forgot-password">Mail me a new link</Link>
        </div>
      ) : (
        <form onSubmit={submit} noValidate>
          <p className="muted">Every session of your account ends; then you sign in with the new password.</p>
          <NewPasswordFields values={draft} errors={{ ...errors, password: errors.password ?? passwordRefused }} onChange={update} />
          {reset.error && !passwordRefused && <ErrorMessage error={reset.error} />}
          <button type="submit" className="primary" disabled={reset.running}>
            {reset.running ? 'Saving…' : 'Set new password'}
          </button>
        </form>
      )}
    </section>
  );
}
