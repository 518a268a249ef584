import type { GraphQLResponse } from '@popug/testing/stack';
import { expectNoInternals, type HostileBed } from './hostile-bed';

/**
 * Requests from a client address of the test's choosing: the throttle files' gateways trust a
 * loopback proxy (TRUST_PROXY=loopback), so X-Forwarded-For names the client, as a load
 * balancer would.
 */

export interface Answer<TData> extends GraphQLResponse<TData> {
  /** The HTTP Retry-After header. */
  retryAfter: string | null;
}

export const LOGIN = 'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }';
export const REGISTER = 'mutation Register($email: String!, $name: String!, $password: String!) { register(email: $email, name: $name, password: $password) { id } }';

export async function callFrom<TData = Record<string, unknown>>(
  bed: HostileBed,
  query: string,
  variables: Record<string, unknown>,
  from: { address: string; token?: string },
): Promise<Answer<TData>> {
  const response = await fetch(bed.system.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from.address, ...(from.token ? { authorization: `Bearer ${from.token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status'>;
  const answer = { ...body, status: response.status, retryAfter: response.headers.get('retry-after') };
  expectNoInternals(answer);
  return answer;
}

/** A refusal by a limit: RATE_LIMITED alone, HTTP 429, no data, and a retry-after in seconds in both the error and the header. */
export function expectRateLimited(answer: Answer<unknown>, longestWaitSeconds = 3600): void {
  expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
  expect(answer.status).toBe(429);
  expect(answer.data ?? null).toBeNull();
  const retryAfter = Number(answer.errors?.[0]?.extensions?.retryAfter);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(longestWaitSeconds);
  expect(answer.retryAfter).toBe(String(retryAfter));
}

/** A fresh client address for each call, from TEST-NET-3 (203.0.113.0/24): a file's 254. */
export function addresses(): () => string {
  let last = 0;
  return () => {
    last += 1;
    if (last > 254) throw new Error('a file has 254 client addresses of TEST-NET-3');
    return `203.0.113.${last}`;
  };
}
