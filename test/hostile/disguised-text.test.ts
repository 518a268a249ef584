import { contractOperation } from '@popug/testing/contract';
import { codesOf, PASSWORD, useHostileBed } from './hostile-bed';

/**
 * Text that can pass for something else (issue 27, point 7): a name or title with a
 * bidirectional control displays in another order than it is stored (a right-to-left
 * override turns "Bob‮gnp.exe" into "Bobexe.png"), and a line or paragraph separator breaks
 * a line in some readers and not in others. Every text field refuses them — descriptions too,
 * which keep their line feeds — as BAD_USER_INPUT naming the field, and nothing is stored.
 * (How a name already stored shows in the admins' mail: subgraphs/auth/test/account-lifecycle.test.ts.)
 */

const bed = useHostileBed({
  RATE_LIMIT_REGISTER_EMAIL_PER_HOUR: '100000',
  RATE_LIMIT_REGISTER_IP_PER_HOUR: '100000',
});

const REGISTER = contractOperation('Register');
const CREATE_TASK = contractOperation('CreateTask');

let sequence = 0;
const freshEmail = () => `disguised-${Date.now()}-${sequence++}@popug.test`;

/** `query` with `variables` as the admin: refused as BAD_USER_INPUT naming `field`, nothing stored. */
async function expectRefused(query: string, variables: Record<string, unknown>, field: string, token?: string): Promise<void> {
  await bed.expectNothingChanged(async () => {
    const result = await bed.system.request(query, variables, token);
    expect({ codes: codesOf(result), field: result.errors?.[0]?.extensions?.field, data: result.data ?? null }).toEqual({ codes: ['BAD_USER_INPUT'], field, data: null });
  });
}

describe('text that can pass for something else', () => {
  it('refuses a registration whose name holds a right-to-left override', async () => {
    await expectRefused(REGISTER, { email: freshEmail(), name: 'Bob\u202Egnp.exe', password: PASSWORD }, 'name');
  });

  it('refuses a registration whose name holds a paragraph separator or a right-to-left mark', async () => {
    await expectRefused(REGISTER, { email: freshEmail(), name: 'Admin\u2029Team', password: PASSWORD }, 'name');
    await expectRefused(REGISTER, { email: freshEmail(), name: 'Popug\u200F 100', password: PASSWORD }, 'name');
  });

  it('refuses a task whose title holds a line separator', async () => {
    await expectRefused(CREATE_TASK, { title: 'Fix the login\u2028Pay everyone twice', description: 'Plain' }, 'title', bed.adminToken);
  });

  it('refuses a task whose title holds an isolate or an Arabic letter mark', async () => {
    await expectRefused(CREATE_TASK, { title: 'Refund \u2067 100 \u2069 popugs', description: 'Plain' }, 'title', bed.adminToken);
    await expectRefused(CREATE_TASK, { title: 'Refund\u061C 100', description: 'Plain' }, 'title', bed.adminToken);
  });

  it('refuses a task whose description, line feeds allowed, holds a bidirectional override or a paragraph separator', async () => {
    await expectRefused(CREATE_TASK, { title: 'Plain', description: 'Pay to\n\u202Etnuocca ym\u202C today' }, 'description', bed.adminToken);
    await expectRefused(CREATE_TASK, { title: 'Plain', description: 'First\u2029Second' }, 'description', bed.adminToken);
  });

  it('still takes right-to-left text written without controls', async () => {
    const result = await bed.system.request<{ createTask: { title: string } }>(CREATE_TASK, { title: 'תיקון באג 42', description: 'إصلاح\nسطر ثانٍ' }, bed.adminToken);
    expect(result.data?.createTask.title).toBe('תיקון באג 42');
  });
});
