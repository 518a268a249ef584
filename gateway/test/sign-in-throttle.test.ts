import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseEnv } from '@popug/lib/env';
import { addressBucket } from '../rate-limits';
import { SignInThrottle, type SignInLimits } from '../sign-in-throttle';

/**
 * The sign-in throttle against real Redis: one login per email at a time, a bounded rate per
 * email whatever the address, registrations per address and overall (never per email), and
 * client addresses counted in buckets (IPv6 per /64).
 */

const LIMITS: SignInLimits = {
  loginPerPair: { points: 100, durationSeconds: 60 },
  loginPerIp: { points: 100, durationSeconds: 60 },
  loginPerEmail: { points: 3, durationSeconds: 60 },
  loginInFlightMaxMs: 300,
  registerPerIp: { points: 2, durationSeconds: 3600 },
  registerOverall: { points: 3, durationSeconds: 3600 },
};

let redis: Redis;

beforeAll(() => {
  redis = new Redis(parseEnv(process.env).REDIS_URL);
});

afterAll(() => {
  redis.disconnect();
});

const freshThrottle = (limits: SignInLimits = LIMITS) => new SignInThrottle(redis, `${process.env.QUEUE_PREFIX ?? 'pt-local'}-${randomUUID()}`, limits);
const login = (email: string) => ({ kind: 'login' as const, email });
const register = (email: string) => ({ kind: 'register' as const, email });

describe('addressBucket', () => {
  it('counts IPv4 as itself, IPv4-mapped IPv6 as its IPv4, and IPv6 per /64', () => {
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(addressBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002:ffff:ffff:ffff:fffe')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressBucket('unknown')).toBe('unknown');
  });
});

describe('logins on one email', () => {
  it('lets one run at a time: a second is refused at once with a retry-after, and goes through once the first ends', async () => {
    const throttle = freshThrottle();
    const release = await throttle.holdEmail('victim@popug.test');
    await expect(throttle.holdEmail('victim@popug.test')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfter: 1 } });
    // Another email is not held by the first one's login.
    await (await throttle.holdEmail('bystander@popug.test'))();
    await release();
    await (await throttle.holdEmail('victim@popug.test'))();
  });

  it('frees an email whose login never ended once the safety expiry passes', async () => {
    const throttle = freshThrottle();
    await throttle.holdEmail('crashed@popug.test');
    await expect(throttle.holdEmail('crashed@popug.test')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    await new Promise((resolve) => setTimeout(resolve, LIMITS.loginInFlightMaxMs + 100));
    await (await throttle.holdEmail('crashed@popug.test'))();
  });

  it('refuses the email beyond its rate whatever the address, and counts no other email', async () => {
    const throttle = freshThrottle();
    for (let attempt = 0; attempt < 3; attempt++) await throttle.attempt(login('victim@popug.test'), `203.0.113.${attempt}`);
    await expect(throttle.attempt(login('victim@popug.test'), '198.51.100.1')).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED', retryAfter: expect.any(Number) as number },
    });
    await throttle.attempt(login('bystander@popug.test'), '203.0.113.99');
  });

  it('counts IPv6 addresses of one /64 as one client', async () => {
    const throttle = freshThrottle({ ...LIMITS, loginPerIp: { points: 2, durationSeconds: 60 } });
    await throttle.attempt(login('a@popug.test'), '2001:db8:5:6::1');
    await throttle.attempt(login('b@popug.test'), '2001:db8:5:6:ffff::2');
    await expect(throttle.attempt(login('c@popug.test'), '2001:db8:5:6:1234:5678:9abc:def0')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    await throttle.attempt(login('d@popug.test'), '2001:db8:5:7::1');
  });
});

describe('while Redis is down', () => {
  it('still holds an email in this process, and counts in memory', async () => {
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false });
    try {
      const throttle = new SignInThrottle(down, 'nowhere', LIMITS);
      const release = await throttle.holdEmail('victim@popug.test');
      await expect(throttle.holdEmail('victim@popug.test')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED', retryAfter: 1 } });
      await release();
      for (let attempt = 0; attempt < 3; attempt++) await throttle.attempt(login('victim@popug.test'), `203.0.113.${attempt}`);
      await expect(throttle.attempt(login('victim@popug.test'), '203.0.113.9')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    } finally {
      down.disconnect();
    }
  });
});

describe('registrations', () => {
  it('never counts by email, and spends nothing of the overall cap on an address over its own limit', async () => {
    const throttle = freshThrottle();
    await throttle.attempt(register('victim@popug.test'), '203.0.113.1');
    await throttle.attempt(register('victim@popug.test'), '203.0.113.1');
    for (let attempt = 0; attempt < 5; attempt++) {
      await expect(throttle.attempt(register('other@popug.test'), '203.0.113.1')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    }
    await throttle.attempt(register('victim@popug.test'), '203.0.113.2');
    // The third registration of the hour from anywhere was the last.
    await expect(throttle.attempt(register('victim@popug.test'), '203.0.113.3')).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
  });
});
