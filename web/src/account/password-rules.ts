/** auth's password rule (subgraphs/auth/services/validation.ts), checked before the round trip. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 8) return 'At least 8 characters.';
  if (password.length > 256) return 'At most 256 characters.';
  return undefined;
}

export interface NewPassword {
  password: string;
  confirmation: string;
}

export type NewPasswordErrors = Partial<Record<keyof NewPassword, string>>;

/** A new password and its confirmation: typed twice, since nobody can read it back from the dots. */
export function newPasswordProblems({ password, confirmation }: NewPassword): NewPasswordErrors {
  const errors: NewPasswordErrors = {};
  const problem = passwordProblem(password);
  if (problem) errors.password = problem;
  if (confirmation !== password) errors.confirmation = 'The two passwords differ.';
  return errors;
}
