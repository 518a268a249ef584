import { useState, type FormEvent } from 'react';
import { useMutation } from '../api/hooks';
import { TextField } from '../components/Field';
import { ErrorMessage } from '../components/status';
import { ChangePasswordDocument } from '../generated/graphql';
import { NewPasswordFields } from './NewPasswordFields';
import { newPasswordProblems, type NewPassword } from './password-rules';

interface Draft extends NewPassword {
  current: string;
}

type Errors = Partial<Record<keyof Draft, string>>;

const EMPTY: Draft = { current: '', password: '', confirmation: '' };

/** The API's `extensions.field` for each of our fields (schema/auth.graphql, changePassword). */
const SERVER_FIELDS: Partial<Record<string, keyof Draft>> = { currentPassword: 'current', newPassword: 'password' };

function validate(draft: Draft): Errors {
  return { ...(draft.current ? {} : { current: 'Enter your current password.' }), ...newPasswordProblems(draft) };
}

/** Current password, then the new one twice; auth signs out the user's other sessions, this one stays. */
export function ChangePasswordForm() {
  const change = useMutation(ChangePasswordDocument);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Errors>({});
  const [submitted, setSubmitted] = useState(false);
  const [changed, setChanged] = useState(false);

  const serverField = change.error?.code === 'BAD_USER_INPUT' ? SERVER_FIELDS[change.error.field ?? ''] : undefined;
  const fieldError = (field: keyof Draft) => errors[field] ?? (serverField === field ? change.error?.message : undefined);

  const update = (field: keyof Draft, value: string) => {
    const next = { ...draft, [field]: value };
    setDraft(next);
    setChanged(false);
    if (submitted) setErrors(validate(next));
    if (serverField === field) change.reset();
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    const problems = validate(draft);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    const result = await change.run({ current: draft.current, new: draft.password });
    if (!result) return;
    setDraft(EMPTY);
    setSubmitted(false);
    setChanged(true);
  };

  return (
    <form onSubmit={submit} noValidate aria-labelledby="change-password-title">
      <h2 id="change-password-title">Change your password</h2>
      <TextField
        label="Current password"
        type="password"
        name="current-password"
        autoComplete="current-password"
        value={draft.current}
        onChange={(event) => update('current', event.target.value)}
        error={fieldError('current')}
        required
      />
      <NewPasswordFields values={draft} errors={{ password: fieldError('password'), confirmation: fieldError('confirmation') }} onChange={update} />
      {change.error && !serverField && <ErrorMessage error={change.error} />}
      {changed && (
        <p className="notice success" role="status">
          Password changed. Every other session of yours is signed out; this one stays.
        </p>
      )}
      <button type="submit" className="primary" disabled={change.running}>
        {change.running ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}
