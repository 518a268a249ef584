import type { IncomingMessage } from 'node:http';
import { parseEnv } from '@popug/lib/env';
import { trustProxy } from '@popug/lib/trust-proxy';
import { traceParentTrust } from '../trace-parents';

/** TRACE_TRUSTED_PARENTS: whose `traceparent` the gateway follows (docs/security.md "Traces from outside"). */

const from = (remoteAddress: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress }, connection: { remoteAddress }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }) as unknown as IncomingMessage;

describe('trusted trace parents', () => {
  it('trusts nobody when unset', () => {
    const trusts = traceParentTrust('', trustProxy(undefined));
    expect([from('127.0.0.1'), from('10.0.0.5'), from('::1')].map(trusts)).toEqual([false, false, false]);
  });

  it('trusts the addresses and subnets listed, by the client address behind the trusted proxies', () => {
    const trusts = traceParentTrust('10.8.0.0/16, 192.0.2.7', trustProxy('10.0.0.1'));
    expect(trusts(from('10.8.3.4'))).toBe(true);
    expect(trusts(from('192.0.2.7'))).toBe(true);
    expect(trusts(from('192.0.2.8'))).toBe(false);
    // Behind the load balancer the forwarded client decides; a client cannot name itself trusted past an untrusted hop.
    expect(trusts(from('10.0.0.1', '10.8.9.9'))).toBe(true);
    expect(trusts(from('10.0.0.1', '203.0.113.1'))).toBe(false);
    expect(trusts(from('203.0.113.1', '10.8.9.9'))).toBe(false);
  });

  it('is refused at start when an entry is not an address or a subnet', () => {
    for (const bad of ['example.com', '10.0.0.0/33', '10.0.0.1/8/1', '*']) {
      expect(() => parseEnv({ ...process.env, TRACE_TRUSTED_PARENTS: bad })).toThrow(/TRACE_TRUSTED_PARENTS/);
    }
    expect(parseEnv({ ...process.env, TRACE_TRUSTED_PARENTS: '10.0.0.0/8, ::1, loopback' }).TRACE_TRUSTED_PARENTS).toBe('10.0.0.0/8, ::1, loopback');
  });
});
