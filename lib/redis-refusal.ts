/** The error replies by which Redis refuses a user rather than fails: retrying never helps. */
const REFUSALS = ['NOPERM', 'WRONGPASS', 'NOAUTH'] as const;
export type RedisRefusal = (typeof REFUSALS)[number];

/** A Redis error reply starts with its code (`-NOPERM this user has no permissions…`); ioredis keeps it as the message's first word. */
export function redisRefusal(error: unknown): RedisRefusal | undefined {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return undefined;
  const code = error.message.split(' ', 1)[0];
  return REFUSALS.find((refusal) => refusal === code);
}
