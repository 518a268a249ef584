import proxyaddr from 'proxy-addr';

/** Which proxies in front of the gateway may name the client (X-Forwarded-For), as proxy-addr asks. */
export type TrustProxy = (address: string, hop: number) => boolean;

const entries = (value: string) => value.split(',').map((entry) => entry.trim());

/** TRUST_PROXY read as Express reads `trust proxy`: a hop count, `true`/`false`, or addresses/subnets ("loopback, 203.0.113.7"). */
export function trustProxy(value: string | undefined): TrustProxy {
  if (!value || value === 'false') return () => false;
  if (value === 'true') return () => true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return proxyaddr.compile(entries(value));
}

/** The first and last address of each private range (RFC 1918, RFC 4193): a subnet holding both holds the whole range. */
const PRIVATE_RANGES: Record<string, [string, string]> = {
  '10.0.0.0/8': ['10.0.0.0', '10.255.255.255'],
  '172.16.0.0/12': ['172.16.0.0', '172.31.255.255'],
  '192.168.0.0/16': ['192.168.0.0', '192.168.255.255'],
  'fc00::/7': ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
};

/**
 * What is wrong with a TRUST_PROXY value, if anything. Any mode: it must parse (a placeholder
 * left in a manifest stops the gateway at start). Production: it must name the load
 * balancers, not trust everyone (`true`) nor a whole private range — any host in such a range
 * (an office network, another pod) could otherwise write its own X-Forwarded-For and be
 * counted as whatever address it likes (docs/security.md "Client addresses").
 */
export function trustProxyProblem(value: string, production: boolean): string | undefined {
  if (value === 'false' || /^\d+$/.test(value)) return undefined;
  if (value === 'true') return production ? 'trusts every address to name the client: list the load balancers\' own addresses' : undefined;
  const listProblem = addressListProblem(value);
  if (listProblem) return `not a hop count, true/false, or ${listProblem}: list the load balancers' own addresses`;
  if (!production) return undefined;
  const trust = proxyaddr.compile(entries(value));
  const whole = Object.entries(PRIVATE_RANGES).filter(([, [first, last]]) => trust(first, 0) && trust(last, 0)).map(([range]) => range);
  return whole.length > 0 ? `trusts the whole private range ${whole.join(', ')}: list the load balancers' own addresses` : undefined;
}

/** What is wrong with a list of addresses and subnets as proxy-addr reads them ("10.1.2.3, 10.8.0.0/16, loopback"), if anything. */
export function addressListProblem(value: string): string | undefined {
  try {
    proxyaddr.compile(entries(value).filter((entry) => entry !== ''));
    return undefined;
  } catch (error) {
    return `a list of addresses and subnets (${(error as Error).message})`;
  }
}
