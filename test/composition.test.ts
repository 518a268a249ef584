import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner } from '@apollo/query-planner';
import { parse } from 'graphql';
import { readSubgraphSdl, SUBGRAPHS } from '../schema/subgraph-sdl';
import { composeSupergraph, SUPERGRAPH_PATH } from '../scripts/supergraph';
import { contractOperation } from '../testing/contract';

describe('the committed supergraph', () => {
  test('is exactly what schema/*.graphql compose to (run `npm run compose` when this fails)', () => {
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(composeSupergraph());
  });

  test('a composition error is reported with what went wrong', () => {
    const broken = SUBGRAPHS.map((name) => ({
      name,
      url: `http://${name}.local/graphql`,
      // Two subgraphs defining the same non-shareable field cannot compose.
      typeDefs: parse(name === 'analytics' ? `${readSubgraphSdl(name)}\ntype AuthPayload { token: String! }` : readSubgraphSdl(name)),
    }));
    const result = composeServices(broken);
    expect(result.errors?.map((error) => error.message).join('\n')).toMatch(/AuthPayload/);
  });
});

/** The subgraphs the gateway's plan for `document` fetches from, in plan order. */
function subgraphsPlannedFor(document: string): string[] {
  const supergraph = Supergraph.build(readFileSync(SUPERGRAPH_PATH, 'utf8'));
  const operation = operationFromDocument(supergraph.schema.toAPISchema(), parse(document));
  const plan = new QueryPlanner(supergraph).buildQueryPlan(operation);
  const fetched: string[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if ((node as { kind?: string }).kind === 'Fetch') fetched.push((node as { serviceName: string }).serviceName);
    Object.values(node).forEach(walk);
  };
  walk(plan.node);
  return fetched;
}

describe('users handed out by tracker and accounting (@provides from their copies of the directory)', () => {
  test.each([
    ['MyTasks', ['tracker']],
    ['Tasks', ['tracker']],
    ['CreateTask', ['tracker']],
    ['MyAccount', ['accounting']],
    ['Accounts', ['accounting']],
    ['CloseDay', ['accounting']],
  ])('%s is one fetch from its own subgraph, none from auth', (operationName, subgraphs) => {
    expect(subgraphsPlannedFor(contractOperation(operationName))).toEqual(subgraphs);
  });

  test('a user field the copies do not hold still comes from auth', () => {
    expect(subgraphsPlannedFor('{ myTasks { id assignee { name active } } }')).toEqual(['tracker', 'auth']);
    expect(subgraphsPlannedFor('{ myAccount { user { email createdAt } } }')).toEqual(['accounting', 'auth']);
  });
});
