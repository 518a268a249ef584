import type { buildSubgraphSchema } from '@apollo/subgraph';

type SchemaModule = Extract<Extract<Parameters<typeof buildSubgraphSchema>[0], readonly unknown[]>[number], { typeDefs: unknown }>;

/**
 * @apollo/subgraph's resolver map for any context (its `GraphQLResolverMap<any>`), read off
 * the public `buildSubgraphSchema` signature: the type's own module is under the package's
 * dist/, which is not its public API (docs/dependency-patches.md).
 */
export type ResolverMap = NonNullable<SchemaModule['resolvers']>;
