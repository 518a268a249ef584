import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/**
 * The files a subgraph's SDL is made of, in order: what every subgraph declares alike
 * (the federation link, the scalars, RolePermissions), the User reference for every
 * subgraph but auth (auth owns User), then the subgraph's own schema/<name>.graphql.
 */
export function subgraphSdlFiles(name: SubgraphName): string[] {
  const shared = name === 'auth' ? ['shared'] : ['shared', 'user-reference'];
  return [...shared, name].map((file) => join(__dirname, `${file}.graphql`));
}

/** A subgraph's whole SDL, as the subgraph serves it and composition, codegen and the schema check read it. */
export function readSubgraphSdl(name: SubgraphName): string {
  return subgraphSdlFiles(name)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}
