import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ParseOptions, ValidationRule } from 'graphql';

/**
 * How big an operation may be before it is refused, unexecuted, with a
 * `GRAPHQL_VALIDATION_FAILED` (limits checked while validating) or
 * `GRAPHQL_PARSE_FAILED` (too many tokens, checked while parsing), HTTP 400. Every operation of the client
 * contract passes the gateway's limits with room to spare (test/query-limits.test.ts).
 */
export interface QueryLimits {
  /** Nested selection sets below the root field. */
  maxDepth: number;
  /** graphql-armor's cost: objects 2, scalars 1, times 1.5 per level. */
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  /** Lexer tokens in the document: a cap on parse work whatever the shape. */
  maxTokens: number;
}

/**
 * What clients may send to the gateway. The largest contract operation (MyAccount) has
 * depth 6 (fragments count), cost ~103, ~100 tokens and no alias or directive. A literal
 * `first: N` multiplies a list's cost by N: `tasks(first: 100) { ...TaskFields }` costs
 * ~6 500 and passes, `first: 500` written inline does not (pass it as a variable, as the
 * contract does; the tracker caps pages at 500 anyway).
 */
export const GATEWAY_QUERY_LIMITS: QueryLimits = {
  maxDepth: 10,
  maxCost: 10_000,
  maxAliases: 15,
  maxDirectives: 20,
  maxTokens: 1_000,
};

/**
 * What a subgraph takes. The gateway's query plans wrap entity fetches in
 * `_entities(...) { ... on Type { ... } }` and alias fields of several entity types,
 * so a subgraph allows more than the gateway does; anything the gateway lets through
 * fits. Aliases are generous because trusted in-process callers (the analytics figure
 * checks) ask for a few hundred figures in one operation; cost and tokens still bound
 * the work of such a request.
 */
export const SUBGRAPH_QUERY_LIMITS: QueryLimits = {
  maxDepth: 16,
  maxCost: 20_000,
  maxAliases: 500,
  maxDirectives: 50,
  maxTokens: 10_000,
};

export interface QueryLimitProtection<TContext extends BaseContext> {
  plugins: ApolloServerPlugin<TContext>[];
  validationRules: ValidationRule[];
  parseOptions: ParseOptions;
}

/**
 * graphql-armor's validation rules for Apollo Server, and graphql-js's own token limit
 * for the parser (armor's max-tokens plugin re-parses each document and answers 500
 * when it refuses one; graphql's `maxTokens` stops the one parse with a 400). Field
 * suggestions ("Did you mean …") are masked when `hideSchema` is set, since they would
 * leak the schema that turning introspection off hides.
 */
export function queryLimitProtection<TContext extends BaseContext>(
  limits: QueryLimits,
  options: { hideSchema: boolean },
): QueryLimitProtection<TContext> {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth },
    costLimit: { maxCost: limits.maxCost },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: options.hideSchema },
  });
  const { plugins, validationRules } = armor.protect();
  // Armor's plugins ignore the context, so they fit a server of any context type.
  return { plugins: plugins as ApolloServerPlugin<TContext>[], validationRules, parseOptions: { maxTokens: limits.maxTokens } };
}
