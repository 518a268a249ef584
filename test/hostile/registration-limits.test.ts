import { randomUUID } from 'node:crypto';
import { PASSWORD, codesOf, useHostileBed } from './hostile-bed';
import { REGISTER, addresses, callFrom, expectRateLimited } from './client-address';

/**
 * Registration limited per client address and overall, never per email (issue 27, point 6):
 * a limit per email let anyone block a victim's sign-up by trying the victim's email a few
 * times. The overall cap is tested last: it closes registration for the rest of the file.
 */

const OVERALL = 10;
const bed = useHostileBed({
  TRUST_PROXY: 'loopback',
  RATE_LIMIT_REGISTER_IP_PER_HOUR: '2',
  RATE_LIMIT_REGISTER_PER_HOUR: String(OVERALL),
  // Today's main default: 5 attempts an hour on one email, from anywhere.
  RATE_LIMIT_REGISTER_EMAIL_PER_HOUR: '5',
});
const address = addresses();
const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@popug.test`;

it('lets a victim register although someone tried the victim\'s email from five addresses first', async () => {
  const email = uniqueEmail('victim');
  await bed.expectNothingChanged(async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      // Attempts that fail (a name of spaces), so the email stays free: only the counting is at stake.
      expect(codesOf(await callFrom(bed, REGISTER, { email, name: '   ', password: PASSWORD }, { address: address() }))).toEqual(['BAD_USER_INPUT']);
    }
  });
  const registered = await callFrom<{ register: { id: string } }>(bed, REGISTER, { email, name: 'Victim Popug', password: PASSWORD }, { address: address() });
  expect(codesOf(registered)).toEqual([]);
  expect(registered.data?.register.id).toEqual(expect.any(String));
});

it('counts IPv6 registrations per /64', async () => {
  for (const host of ['1', 'abcd:ef01:2345:6789']) {
    expect(codesOf(await callFrom(bed, REGISTER, { email: uniqueEmail('six'), name: 'Six Popug', password: PASSWORD }, { address: `2001:db8:27:6:${host === '1' ? ':1' : host}` }))).toEqual([]);
  }
  await bed.expectNothingChanged(async () => {
    expectRateLimited(await callFrom(bed, REGISTER, { email: uniqueEmail('six'), name: 'Six Popug', password: PASSWORD }, { address: '2001:db8:27:6:ffff::77' }));
  });
});

it('caps registrations from every address together', async () => {
  // Whatever this file's earlier registrations left of the hour's cap, from a new address each time.
  let registered = 0;
  while (registered < OVERALL) {
    const answer = await callFrom(bed, REGISTER, { email: uniqueEmail('crowd'), name: 'Crowd Popug', password: PASSWORD }, { address: address() });
    if (codesOf(answer).includes('RATE_LIMITED')) break;
    expect(codesOf(answer)).toEqual([]);
    registered += 1;
  }
  expect(registered).toBeLessThan(OVERALL);
  await bed.expectNothingChanged(async () => {
    expectRateLimited(await callFrom(bed, REGISTER, { email: uniqueEmail('crowd'), name: 'Crowd Popug', password: PASSWORD }, { address: address() }));
  });
});
