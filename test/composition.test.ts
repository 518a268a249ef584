import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { readSubgraphSdl, SUBGRAPHS } from '../schema/subgraph-sdl';
import { composeSupergraph, SUPERGRAPH_PATH } from '../scripts/supergraph';

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
