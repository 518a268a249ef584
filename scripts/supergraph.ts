import { join } from 'node:path';
import { composeServices, type CompositionSuccess } from '@apollo/composition';
import { parse, type GraphQLSchema } from 'graphql';
import { readSubgraphSdl, SUBGRAPHS } from '../schema/subgraph-sdl';

export const SUPERGRAPH_PATH = join(__dirname, '..', 'gateway', 'supergraph.graphql');

/** Composes the subgraphs' SDL (schema/subgraph-sdl.ts); throws with every composition error listed. */
export function composeSupergraph(): string {
  return compose(Object.fromEntries(SUBGRAPHS.map((name) => [name, readSubgraphSdl(name)]))).supergraphSdl;
}

/** The API schema clients see (federation's join machinery removed) of the given subgraph SDLs. */
export function composeApiSchema(sdls: Record<string, string>): GraphQLSchema {
  return compose(sdls).schema.toAPISchema().toGraphQLJSSchema();
}

function compose(sdls: Record<string, string>): CompositionSuccess {
  const result = composeServices(
    Object.entries(sdls).map(([name, sdl]) => ({
      name,
      // The gateway maps names to URLs from its environment; these are placeholders.
      url: `http://${name}.subgraph.local/graphql`,
      typeDefs: parse(sdl),
    })),
  );
  if (result.errors) {
    throw new Error(`Composition failed:\n${result.errors.map((error) => `  ${error.message}`).join('\n')}`);
  }
  return result;
}
