import { TextField } from '../components/Field';
import type { NewPassword, NewPasswordErrors } from './password-rules';

interface NewPasswordFieldsProps {
  values: NewPassword;
  errors: NewPasswordErrors;
  onChange(field: keyof NewPassword, value: string): void;
}

/** The new password twice, marked for password managers to offer a strong one and save it. */
export function NewPasswordFields({ values, errors, onChange }: NewPasswordFieldsProps) {
  return (
    <>
      <TextField
        label="New password"
        type="password"
        name="new-password"
        autoComplete="new-password"
        hint="At least 8 characters."
        value={values.password}
        onChange={(event) => onChange('password', event.target.value)}
        error={errors.password}
        required
      />
      <TextField
        label="Confirm new password"
        type="password"
        name="confirm-password"
        autoComplete="new-password"
        value={values.confirmation}
        onChange={(event) => onChange('confirmation', event.target.value)}
        error={errors.confirmation}
        required
      />
    </>
  );
}
