import { hire, type TestUser } from '@popug/testing/people';
import { dataOf } from '@popug/testing/stack';
import type { GraphClient } from '@popug/testing/system';
import type { SoakPeople } from './clients';
import { SOAK_OPERATIONS } from './operations';

export const SOAK_PASSWORD = 'soak-bench-password';

/** `perRole` users of each role, each hired through the gateway by the bootstrap admin, as an operator would. */
export async function hireSoakPeople(client: GraphClient, adminToken: string, perRole: number): Promise<SoakPeople> {
  const hireMany = async (role: string) => {
    const users: TestUser[] = [];
    for (let n = 0; n < perRole; n++) users.push(await hire(client, adminToken, SOAK_PASSWORD, role, `soak-${role}`));
    return users;
  };
  return { popugs: await hireMany('worker'), managers: await hireMany('manager'), accountants: await hireMany('accountant'), admins: await hireMany('admin') };
}

/** Until accounting (and with it, by the same replication pass, tracker) knows every popug: tasks can go to them. */
export async function waitForDirectoryCopies(client: GraphClient, people: SoakPeople, timeoutMs: number): Promise<void> {
  const accountant = people.accountants[0];
  if (!accountant) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const known = new Set(dataOf(await client.request<{ accounts: { user: { id: string } }[] }>(SOAK_OPERATIONS.accounts, {}, accountant.token)).accounts.map(({ user }) => user.id));
    if (people.popugs.every((popug) => known.has(popug.id))) return;
    if (Date.now() > deadline) throw new Error(`accounting did not learn of every popug within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
