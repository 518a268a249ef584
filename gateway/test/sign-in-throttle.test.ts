import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseEnv } from '@popug/lib/env';
import { SignInThrottle, slowdownMs, type SignInLimits } from '../sign-in-throttle';

/**
 * The per-email slowdown: free up to the limit, then 250 ms doubling to the cap, for every
 * address alike; never a refusal. Delays are recorded by an injected wait, not measured.
 */

const LIMITS: SignInLimits = {
  loginPerPair: { points: 100, durationSeconds: 60 },
  loginPerIp: { points: 100, durationSeconds: 60 },
  loginPerEmail: { points: 3, durationSeconds: 60 },
  loginSlowdownMaxMs: 2000,
  registerPerEmail: { points: 5, durationSeconds: 3600 },
  registerPerIp: { points: 50, durationSeconds: 3600 },
};

let redis: Redis;

beforeAll(() => {
  redis = new Redis(parseEnv(process.env).REDIS_URL);
});

afterAll(() => {
  redis.disconnect();
});

it('computes the progressive delay: none within the limit, then doubling to the cap', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((attempt) => slowdownMs(attempt, 3, 2000))).toEqual([0, 0, 0, 250, 500, 1000, 2000, 2000, 2000]);
});

it('slows down every address trying one email past its limit, and refuses none of them', async () => {
  const waits: number[] = [];
  const throttle = new SignInThrottle(redis, `${process.env.QUEUE_PREFIX ?? 'pt-local'}-${randomUUID()}`, LIMITS, async (ms) => {
    waits.push(ms);
  });
  for (let attempt = 0; attempt < 7; attempt++) await throttle.attempt('login', `203.0.113.${attempt}`, 'victim@popug.test');
  expect(waits).toEqual([0, 0, 0, 250, 500, 1000, 2000]);
  // Another email is not slowed by the first one's trouble.
  await throttle.attempt('login', '203.0.113.99', 'bystander@popug.test');
  expect(waits.at(-1)).toBe(0);
});
