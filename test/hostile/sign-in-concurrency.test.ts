import { randomUUID } from 'node:crypto';
import { PASSWORD, codesOf, useHostileBed } from './hostile-bed';
import { LOGIN, addresses, callFrom, expectRateLimited } from './client-address';

/**
 * Guessing one account's password faster than the limits allow (issue 27, point 2): in
 * parallel, from many addresses, from many IPv6 addresses of one /64, several in one
 * operation. At most one login per email runs at a time and a few a minute from anywhere;
 * IPv6 clients count per /64.
 */

const bed = useHostileBed({
  TRUST_PROXY: 'loopback',
  RATE_LIMIT_LOGIN_EMAIL_PER_MIN: '5',
  RATE_LIMIT_LOGIN_IP_PER_MIN: '5',
  RATE_LIMIT_LOGIN_PAIR_PER_MIN: '5',
  // Today's main slows a much-tried email down instead of refusing it: briefly, so the test fails on the outcome, not on time.
  LOGIN_SLOWDOWN_MAX_MS: '20',
});
const address = addresses();

describe('one email guessed in parallel and from everywhere', () => {
  it('runs one login per email at a time: of 60 at once from 60 addresses, the right password last, at most the minute\'s few run', async () => {
    const victim = await bed.register('victim');
    await bed.expectNothingChanged(async () => {
      const guesses = Array.from({ length: 60 }, (_, index) => (index === 59 ? PASSWORD : `wrong password ${index}`));
      const answers = await Promise.all(guesses.map((password) => callFrom(bed, LOGIN, { email: victim.email, password }, { address: address() })));
      const refused = answers.filter((answer) => codesOf(answer).includes('RATE_LIMITED'));
      for (const answer of refused) expectRateLimited(answer, 60);
      const ran = answers.filter((answer) => !codesOf(answer).includes('RATE_LIMITED'));
      expect(ran.length).toBeGreaterThanOrEqual(1);
      expect(ran.length).toBeLessThanOrEqual(5);
      expect(refused.length).toBe(60 - ran.length);
    });
  });

  it('refuses logins on one email beyond its rate, one after another from new addresses each time', async () => {
    const victim = await bed.register('victim');
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(codesOf(await callFrom(bed, LOGIN, { email: victim.email, password: 'wrong password!' }, { address: address() }))).toEqual(['UNAUTHENTICATED']);
    }
    await bed.expectNothingChanged(async () => {
      // The right password too: the email's minute is spent, whoever asks (it works again once the minute passes).
      expectRateLimited(await callFrom(bed, LOGIN, { email: ` ${victim.email.toUpperCase()} `, password: PASSWORD }, { address: address() }), 60);
    });
  });

  it('refuses a second login of one email in one operation: the first holds the email', async () => {
    const victim = await bed.register('victim');
    const twice = 'mutation Twice($email: String!) { a: login(email: $email, password: "wrong password!") { token } b: login(email: $email, password: "wrong again!!") { token } }';
    await bed.expectNothingChanged(async () => {
      expectRateLimited(await callFrom(bed, twice, { email: victim.email }, { address: address() }), 60);
    });
  });
});

describe('client addresses in buckets', () => {
  it('counts IPv6 addresses of one /64 as one client', async () => {
    const email = () => `nobody-${randomUUID().slice(0, 8)}@popug.test`;
    for (let host = 1; host <= 5; host++) {
      expect(codesOf(await callFrom(bed, LOGIN, { email: email(), password: PASSWORD }, { address: `2001:db8:27:1::${host.toString(16)}` }))).toEqual(['UNAUTHENTICATED']);
    }
    await bed.expectNothingChanged(async () => {
      expectRateLimited(await callFrom(bed, LOGIN, { email: email(), password: PASSWORD }, { address: '2001:db8:27:1:ffff:ffff:ffff:fffe' }), 60);
    });
    // The next /64 is another client.
    expect(codesOf(await callFrom(bed, LOGIN, { email: email(), password: PASSWORD }, { address: '2001:db8:27:2::1' }))).toEqual(['UNAUTHENTICATED']);
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    const email = () => `nobody-${randomUUID().slice(0, 8)}@popug.test`;
    const client = address();
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(codesOf(await callFrom(bed, LOGIN, { email: email(), password: PASSWORD }, { address: attempt % 2 === 0 ? client : `::ffff:${client}` }))).toEqual(['UNAUTHENTICATED']);
    }
    await bed.expectNothingChanged(async () => {
      expectRateLimited(await callFrom(bed, LOGIN, { email: email(), password: PASSWORD }, { address: `::ffff:${client}` }), 60);
    });
  });
});
