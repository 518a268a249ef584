import { z } from 'zod';
import { badInput } from '@popug/lib/errors';
import { isUuid } from '@popug/lib/ids';
import { textProblem } from '@popug/lib/text-input';

const email = z.string().trim().toLowerCase().max(320, 'at most 320 characters').email('not an email address');
const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'at most 200 characters')
  // The text every field passes (lib/text-input.ts), checked here again for the name a mail
  // shows to admins: no control characters (a NUL would reach PostgreSQL as an internal error,
  // line breaks have no place in a directory name), no bidirectional controls or separators.
  .superRefine((value, context) => {
    const problem = textProblem(value, false);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
const password = z.string().min(8, 'at least 8 characters').max(256, 'at most 256 characters');

function parseField<T>(schema: z.ZodType<T>, value: unknown, field: string, label: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw badInput(`${label}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, field);
}

export const parseEmail = (value: string) => parseField(email, value, 'email', 'Email');
export const parseName = (value: string) => parseField(name, value, 'name', 'Name');
export const parsePassword = (value: string, field = 'password', label = 'Password') => parseField(password, value, field, label);

export function parseUserId(value: string, field = 'userId'): string {
  if (!isUuid(value)) throw badInput(`No user has the id "${value.slice(0, 64)}"`, field);
  return value.toLowerCase();
}
