/**
 * The limits a benchmark's gateway runs with: its clients sign up, sign in and create tasks
 * from the bench's one address as fast as the host lets them, far past what the limits allow
 * a person (docs/security.md "Sign-in throttling", "Per-user limits"), which would stop the
 * seeding and the load they measure. The limits themselves are tested in test/hostile.
 */
export const BENCH_LIMITS = {
  RATE_LIMIT_REGISTER_IP_PER_HOUR: '1000',
  RATE_LIMIT_REGISTER_PER_HOUR: '100000',
  RATE_LIMIT_LOGIN_IP_PER_MIN: '1000',
  RATE_LIMIT_CREATE_TASK_PER_MIN: '1000000',
  RATE_LIMIT_COMPLETE_TASK_PER_MIN: '1000000',
  RATE_LIMIT_SHUFFLE_TASKS_PER_MIN: '1000000',
} as const;
