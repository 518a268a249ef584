import { useState, type FormEvent } from 'react';
import { passwordProblem } from '../account/password-rules';
import { useAnonymousMutation } from '../api/hooks';
import { CredentialFields, type Credentials } from '../components/CredentialFields';
import { TextField } from '../components/Field';
import { ErrorMessage } from '../components/status';
import { RegisterDocument } from '../generated/graphql';
import { Link, navigate, useLocation } from '../router';

interface Draft extends Credentials {
  name: string;
}

type Errors = Partial<Record<keyof Draft, string>>;

/** auth's rules (subgraphs/auth/services/validation.ts), checked before the round trip. */
function validate(draft: Draft): Errors {
  const errors: Errors = {};
  const name = draft.name.trim();
  if (!name) errors.name = 'Enter your name.';
  else if (name.length > 200) errors.name = 'At most 200 characters.';
  const email = draft.email.trim();
  if (!email) errors.email = 'Enter your email.';
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320) errors.email = 'Enter an email address like name@example.com.';
  const password = passwordProblem(draft.password);
  if (password) errors.password = password;
  return errors;
}

export function RegisterPage() {
  const { query } = useLocation();
  const register = useAnonymousMutation(RegisterDocument);
  const [draft, setDraft] = useState<Draft>({ name: '', email: '', password: '' });
  const [errors, setErrors] = useState<Errors>({});
  const [touched, setTouched] = useState(false);

  const update = (field: keyof Draft, value: string) => {
    const next = { ...draft, [field]: value };
    setDraft(next);
    if (touched) setErrors(validate(next));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    const problems = validate(draft);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    const result = await register.run({ name: draft.name.trim(), email: draft.email.trim(), password: draft.password });
    if (!result) return;
    const params = new URLSearchParams({ registered: result.register.email });
    const next = query.get('next');
    if (next) params.set('next', next);
    navigate(`/login?${params.toString()}`);
  };

  const serverField = register.error?.code === 'BAD_USER_INPUT' ? register.error.field : undefined;
  const fieldError = (field: keyof Draft) => errors[field] ?? (serverField === field ? register.error?.message : undefined);

  return (
    <section className="panel" aria-labelledby="register-title">
      <h1 id="register-title">Create an account</h1>
      <p className="muted">New popugs start as workers: tasks land on you, and you earn when you close them.</p>
      <form onSubmit={submit} noValidate>
        <TextField label="Name" name="name" autoComplete="name" value={draft.name} onChange={(e) => update('name', e.target.value)} error={fieldError('name')} required />
        <CredentialFields
          purpose="register"
          values={draft}
          errors={{ email: fieldError('email'), password: fieldError('password') }}
          onChange={update}
          passwordHint="At least 8 characters."
        />
        {register.error && !serverField && <ErrorMessage error={register.error} />}
        <button type="submit" className="primary" disabled={register.running}>
          {register.running ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p>
        Already registered? <Link to="/login">Sign in</Link>
      </p>
    </section>
  );
}
