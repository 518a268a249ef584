import type { buildSubgraphSchema } from '@apollo/subgraph';
import type { DocumentNode } from 'graphql';

/** One schema module as `buildSubgraphSchema` takes it: its public signature, since the type itself is not exported. */
type SubgraphSchemaModule = Exclude<Extract<Parameters<typeof buildSubgraphSchema>[0], readonly unknown[]>[number], DocumentNode>;

/** A subgraph's resolver map, whichever codegen-typed map it is. */
export type SubgraphResolverMap = NonNullable<SubgraphSchemaModule['resolvers']>;
