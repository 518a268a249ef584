import proxyaddr from 'proxy-addr';
import type { ParentTrust } from '@popug/lib/tracing/server-span';
import type { TrustProxy } from '@popug/lib/trust-proxy';
import { clientAddress } from './sign-in-throttle';

/**
 * Whose `traceparent` may decide a request's trace at the gateway (docs/security.md
 * "Traces from outside"): the callers TRACE_TRUSTED_PARENTS names (addresses and subnets, as
 * proxy-addr reads them: "10.1.2.3, 10.8.0.0/16, loopback"), by the client address the
 * gateway works out behind its TRUST_PROXY proxies. Unset: nobody; every outside request is
 * drawn by the gateway's own sampler.
 */
export function traceParentTrust(list: string, proxies: TrustProxy): ParentTrust {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return () => false;
  const known = proxyaddr.compile(entries);
  return (request) => known(clientAddress(request, proxies), 0);
}
