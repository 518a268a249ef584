import type { ReadinessChecks } from '@popug/lib/health';
import type { SubgraphCall } from './subgraph-calls';

/** The smallest operation a subgraph can answer: no resolver, no database. */
const ROUND_TRIP = JSON.stringify({ query: 'query SubgraphState { __typename }', operationName: 'SubgraphState' });

/**
 * One check per subgraph for the gateway's /health (its internal port): a GraphQL round trip
 * over the gateway's own agent, so it fails exactly when the gateway could not reach the
 * subgraph for a real request. Any GraphQL answer counts (a subgraph refusing an unsigned
 * caller still answered). Not on /ready: a subgraph down leaves the gateway serving what
 * the others answer.
 */
export function subgraphRoundTrips(urls: Record<string, string>, call: SubgraphCall): ReadinessChecks {
  return Object.fromEntries(
    Object.entries(urls).map(([name, url]) => [
      name,
      async () => {
        const answer = await call(url, { 'content-type': 'application/json' }, ROUND_TRIP);
        const body = answer.status < 500 ? (JSON.parse(answer.text) as Record<string, unknown>) : {};
        if (!('data' in body) && !('errors' in body)) throw new Error(`${name} answered ${answer.status} without GraphQL`);
      },
    ]),
  );
}
