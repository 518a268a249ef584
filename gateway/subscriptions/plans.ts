import { buildOperationContext } from '@apollo/gateway';
import { operationFromDocument, type Schema } from '@apollo/federation-internals';
import type { FetchNode, QueryPlan, QueryPlanner, QueryPlannerConfig } from '@apollo/query-planner';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { PerOperation } from '../per-operation';
import { planningOver } from '../supergraph-planning';

/** What a subscription runs: the primary fetch subscribed upstream, and per event the plan of that fetch then `rest`. */
/** Not exported by name from @apollo/gateway: what its public `buildOperationContext` returns. */
export type OperationContext = ReturnType<typeof buildOperationContext>;

export interface SubscriptionPlan {
  /** The fetch to the subgraph that owns the root field: subscribed there, answered from each event. */
  primary: FetchNode;
  /** `Sequence[primary, rest]` (or the primary alone): run by `executeQueryPlan` for every event. */
  eventPlan: QueryPlan;
  operationContext: OperationContext;
}

/**
 * Plans subscriptions with `@apollo/query-planner` over the gateway's supergraph and planner
 * options (the same deterministic plans as ApolloGateway's): a `SubscriptionNode { primary,
 * rest }`. Plans are kept with their parsed document, which admission keeps one of per
 * operation text (federated-subscriptions.ts).
 */
export class SubscriptionPlans {
  /** The API schema clients validate against (graphql-js). */
  readonly schema: GraphQLSchema;
  /** The supergraph's own schema, which `executeQueryPlan` reads entity types from. */
  readonly supergraphSchema: GraphQLSchema;
  readonly apiSchema: Schema;
  private readonly planner: QueryPlanner;
  private readonly plans = new PerOperation((document, operationName) => this.build(document, operationName));

  constructor(supergraphSdl: string, config: QueryPlannerConfig) {
    const { supergraph, apiSchema, planner } = planningOver(supergraphSdl, config);
    this.apiSchema = apiSchema;
    this.schema = apiSchema.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.planner = planner;
  }

  /** The plan of a validated subscription document. */
  plan(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    return this.plans.get(document, operationName);
  }

  private build(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const operationContext = buildOperationContext({ schema: this.schema, operationDocument: document, operationName });
    const { node } = this.planner.buildQueryPlan(operationFromDocument(this.apiSchema, document, { operationName }));
    if (node?.kind !== 'Subscription') throw new Error('Not a subscription: its plan has no SubscriptionNode');
    const { primary, rest } = node;
    return { primary, operationContext, eventPlan: { kind: 'QueryPlan', node: rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary } };
  }
}
