import { readFileSync } from 'node:fs';
import { subscribeSse, subscribeWs, wsClient } from '@popug/testing/live';
import type { RunningService } from '@popug/testing/stack';
import { MANIFEST_FILE } from '../../gateway/trusted-documents';
import { startGatewayOver } from '../system';
import { useHostileBed } from './hostile-bed';

/**
 * Hostile subscriptions at the gateway (docs/architecture.md "Subscriptions (gateway side)"):
 * what a query is refused, a subscription is refused too, over SSE and WebSocket, and a
 * caller cannot hold more live streams than its limit. Each refusal changes nothing.
 */
const bed = useHostileBed({ SUBSCRIPTIONS_PER_USER: '2' });
const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as { operations: { id: string; name: string }[] };
const TASK_UPDATES = { extensions: { persistedQuery: { version: 1, sha256Hash: manifest.operations.find((operation) => operation.name === 'TaskUpdates')!.id } } };
const graphql = () => `${bed.gatewayBase}/graphql`;
type Refused = { extensions?: { code?: string } }[] | undefined;

/** What ends a WebSocket subscription refused at its start: the `error` message's first code. */
async function wsRefusal(url: string, token: string | undefined, payload: Parameters<typeof subscribeWs>[1]): Promise<string | undefined> {
  const client = wsClient(url, token);
  try {
    const live = subscribeWs(client, payload);
    await live.next(5000);
    return (live.state.error as Refused)?.[0]?.extensions?.code;
  } finally {
    await client.dispose();
  }
}

describe('hostile subscriptions', () => {
  it('a document outside the manifest, over WebSocket to a manifest-only gateway: PERSISTED_QUERY_NOT_IN_LIST', async () => {
    const enforced: RunningService = await startGatewayOver(bed.system, { ALLOW_ARBITRARY_OPERATIONS: 'false' });
    try {
      await bed.expectNothingChanged(async () => {
        const code = await wsRefusal(`${enforced.url}/graphql`, bed.workerToken, { query: 'subscription { taskUpdated { id description assignee { email } } }' });
        expect(code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      });
    } finally {
      await enforced.close();
    }
  });

  it('no token over WebSocket: UNAUTHENTICATED', async () => {
    await bed.expectNothingChanged(async () => {
      expect(await wsRefusal(graphql(), undefined, { query: '', ...TASK_UPDATES })).toBe('UNAUTHENTICATED');
    });
  });

  it('a subscription over the query limits (aliases), over WebSocket: GRAPHQL_VALIDATION_FAILED', async () => {
    const aliases = Array.from({ length: 16 }, (_, index) => `a${index}: id`).join(' ');
    const deep = `subscription { taskUpdated { ${aliases} } }`;
    await bed.expectNothingChanged(async () => {
      expect(await wsRefusal(graphql(), bed.workerToken, { query: deep })).toBe('GRAPHQL_VALIDATION_FAILED');
    });
  });

  it('more live streams than the per-user limit over SSE: RATE_LIMITED, and the streams held keep running', async () => {
    await bed.expectNothingChanged(async () => {
      const held = [await subscribeSse(graphql(), TASK_UPDATES, bed.workerToken), await subscribeSse(graphql(), TASK_UPDATES, bed.workerToken)];
      try {
        expect(held.map((stream) => stream.status)).toEqual([200, 200]);
        const third = await subscribeSse(graphql(), TASK_UPDATES, bed.workerToken);
        expect(third.status).toBe(429);
        expect(third.refusal?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      } finally {
        for (const stream of held) stream.close();
      }
    });
  });
});
