import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

export const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

export const SUPERGRAPH_PATH = join(__dirname, '..', 'gateway', 'supergraph.graphql');

export function readSubgraphSdl(name: SubgraphName): string {
  return readFileSync(join(__dirname, '..', 'schema', `${name}.graphql`), 'utf8');
}

/** Composes schema/*.graphql; throws with every composition error listed. */
export function composeSupergraph(): string {
  const result = composeServices(
    SUBGRAPHS.map((name) => ({
      name,
      // The gateway maps names to URLs from its environment; these are placeholders.
      url: `http://${name}.subgraph.local/graphql`,
      typeDefs: parse(readSubgraphSdl(name)),
    })),
  );
  if (result.errors) {
    throw new Error(`Composition failed:\n${result.errors.map((error) => `  ${error.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}
