/** auth's rule for role names (lib/access/permission-store.ts ROLE_NAME_PATTERN). */
export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{1,31}$/;

export function roleNameError(name: string): string | undefined {
  if (!name) return 'Enter a name for the role.';
  if (!ROLE_NAME_PATTERN.test(name)) return '2–32 characters: lower-case letters, digits, “-” or “_”, starting with a letter.';
  return undefined;
}
