import { trustProxy, trustProxyProblem } from '../trust-proxy';

/** TRUST_PROXY: the load balancers' addresses; production refuses trusting everyone or a whole private range. */

it('accepts hop counts, addresses and narrow subnets in any mode', () => {
  for (const value of ['false', '1', 'loopback', '10.4.0.21, 10.4.0.22', '10.4.7.0/28', '2001:db8::10']) {
    expect({ value, problem: trustProxyProblem(value, true) }).toEqual({ value, problem: undefined });
  }
});

it('refuses in production `true` and any list holding a whole private range', () => {
  for (const value of ['true', '10.0.0.0/8', 'loopback, 172.16.0.0/12', '192.168.0.0/16', '0.0.0.0/1', 'uniquelocal', 'fc00::/7']) {
    expect({ value, problem: trustProxyProblem(value, true) }).toEqual({ value, problem: expect.stringMatching(/list the load balancers' own addresses/) as string });
    if (value !== 'true') expect(trustProxyProblem(value, false)).toBeUndefined();
  }
});

it('refuses text that is no address in any mode: a placeholder left in a manifest stops the gateway', () => {
  expect(trustProxyProblem('<load balancer addresses>', false)).toMatch(/not a hop count/);
});

it('reads a list as proxy-addr does: only the listed proxies may name the client', () => {
  const trust = trustProxy('10.4.0.21, 10.4.7.0/28');
  expect([trust('10.4.0.21', 0), trust('10.4.7.15', 0), trust('10.4.7.16', 0), trust('10.4.0.22', 0)]).toEqual([true, true, false, false]);
});
