import { hire, type TestUser } from '@popug/testing/people';
import type { GraphClient } from '@popug/testing/system';
import type { SoakPeople } from './clients';

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
