import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  MaxIntrospectionDepthRule,
  type ASTVisitor,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

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
    // Introspection has a budget of its own (introspectionLimitRule): armor's cost prices
    // the playground's own introspection query at ~87 000, and its depth at 15.
    costLimit: { maxCost: limits.maxCost },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: options.hideSchema },
  });
  const { plugins, validationRules } = armor.protect();
  // Armor's plugins ignore the context, so they fit a server of any context type.
  return {
    plugins: plugins as ApolloServerPlugin<TContext>[],
    // MaxIntrospectionDepthRule: `fields`, `interfaces`, `possibleTypes` and `inputFields`
    // nested at most 3 deep under introspection, as graphql-js recommends.
    validationRules: [...validationRules, MaxIntrospectionDepthRule, introspectionLimitRule(INTROSPECTION_LIMITS)],
    parseOptions: { maxTokens: limits.maxTokens },
  };
}

/**
 * What one operation may ask of introspection (`__schema`, `__type`), fragments expanded:
 * the playground's introspection query selects 220 fields at most 15 deep. Towers of
 * `ofType` (which MaxIntrospectionDepthRule does not count) and many aliased copies of
 * the whole schema go over.
 */
export const INTROSPECTION_LIMITS = { maxDepth: 16, maxFields: 500 } as const;

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

export function introspectionLimitRule(limits: { maxDepth: number; maxFields: number }): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const usage = { fields: 0, depth: 0 };
      const visiting = new Set<string>();
      const walk = (set: SelectionSetNode, depth: number, inside: boolean) => {
        for (const selection of set.selections) {
          if (selection.kind === Kind.FIELD) {
            const counted = inside || INTROSPECTION_ROOTS.has(selection.name.value);
            if (counted) {
              usage.fields += 1;
              usage.depth = Math.max(usage.depth, depth);
            }
            if (selection.selectionSet) walk(selection.selectionSet, counted ? depth + 1 : depth, counted);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            walk(selection.selectionSet, depth, inside);
          } else {
            const fragment = context.getFragment(selection.name.value);
            // A fragment spread inside itself is NoFragmentCyclesRule's to report.
            if (!fragment || visiting.has(fragment.name.value)) continue;
            visiting.add(fragment.name.value);
            walk(fragment.selectionSet, depth, inside);
            visiting.delete(fragment.name.value);
          }
        }
      };
      walk(operation.selectionSet, 1, false);
      if (usage.depth > limits.maxDepth || usage.fields > limits.maxFields) {
        context.reportError(
          new GraphQLError(
            `Introspection limit: at most ${limits.maxFields} fields ${limits.maxDepth} deep, found ${usage.fields} fields ${usage.depth} deep`,
            { nodes: [operation] },
          ),
        );
      }
    },
  });
}
