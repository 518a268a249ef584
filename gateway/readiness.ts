import type { ReadinessChecks } from '@popug/lib/health';
import type { SubgraphCall } from './subgraph-calls';

/** The smallest operation a subgraph can answer: no resolver, no database. */
const ROUND_TRIP = JSON.stringify({ query: 'query Ready { __typename }', operationName: 'Ready' });

/**
 * One readiness check per subgraph: a GraphQL round trip over the gateway's own agent,
 * so it fails exactly when the gateway could not reach the subgraph for a real request.
 * Any GraphQL answer counts (a subgraph refusing an unsigned caller still answered).
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
