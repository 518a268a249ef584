import type { ReactNode } from 'react';
import { TextField } from './Field';

export interface Credentials {
  email: string;
  password: string;
}

interface CredentialFieldsProps {
  /** Tells password managers to offer a saved password (sign-in) or to save a new one (register). */
  purpose: 'sign-in' | 'register';
  values: Credentials;
  errors: Partial<Record<keyof Credentials, string>>;
  onChange(field: keyof Credentials, value: string): void;
  passwordHint?: ReactNode;
}

const AUTOCOMPLETE = {
  'sign-in': { email: 'username', password: 'current-password' },
  register: { email: 'email', password: 'new-password' },
} as const;

const FIELDS = [
  { field: 'email', label: 'Email' },
  { field: 'password', label: 'Password' },
] as const;

/** The email and password fields of the sign-in and registration forms, both required. */
export function CredentialFields({ purpose, values, errors, onChange, passwordHint }: CredentialFieldsProps) {
  return (
    <>
      {FIELDS.map(({ field, label }) => (
        <TextField
          key={field}
          label={label}
          type={field}
          name={field}
          autoComplete={AUTOCOMPLETE[purpose][field]}
          hint={field === 'password' ? passwordHint : undefined}
          value={values[field]}
          onChange={(event) => onChange(field, event.target.value)}
          error={errors[field]}
          required
        />
      ))}
    </>
  );
}
