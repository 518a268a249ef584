import { operationFromDocument, type Operation } from '@apollo/federation-internals';
import type { FetchNode, QueryPlannerConfig } from '@apollo/query-planner';
import { Kind, parse, visit, BREAK, type DocumentNode } from 'graphql';
import { PerOperation } from './per-operation';
import { planningOver } from './supergraph-planning';

/** A plan the subgraph answers alone, exactly as asked: where to send it and the root response names to expect. */
export interface SingleFetch {
  fetch: FetchNode & { operationDocumentNode: DocumentNode };
  roots: readonly string[];
}

/**
 * Judges, once per document and operation name, whether one subgraph's answer IS the answer
 * (docs/performance.md "Gateway CPU").
 *
 * Apollo's gateway shapes every answer by walking the operation over the merged data
 * (`computeResponse`: copying each object, checking each leaf against the API schema, null
 * bubbling, aliases, `__typename`). When the plan is a single fetch at the root — a query, no
 * entities, `@requires`, rewrites or `@defer` — and that fetch selects exactly what the client
 * asked for (the two selections, fragments expanded, print the same: the same fields,
 * aliases and arguments in the same order; anything the planner added, such as a
 * `__typename`, makes them differ), the subgraph has done the walk already: it answered that
 * very selection by the GraphQL rules, against types that are the supergraph's. The walk would
 * copy its data unchanged. That holds only where the API schema hides nothing the subgraph
 * shows, so any `@inaccessible` in the supergraph turns the judgement off (checked from the
 * supergraph's text when it is loaded), and only where the gateway and the subgraph read the
 * same conditions the same way, so an operation with any directive (`@skip`/`@include`, whose
 * variable defaults the shaping reads differently) is never judged a single fetch.
 *
 * The plan is made with `@apollo/query-planner`'s own `QueryPlanner` over the same supergraph
 * and planner options as the gateway's: the same deterministic plan. It is used only to judge;
 * every other operation runs through the stock ApolloGateway.
 */
export class SingleFetchPlans {
  readonly enabled: boolean;
  private readonly verdicts = new PerOperation((document, operationName) => this.singleFetchOf(document, operationName));

  constructor(
    private readonly supergraphSdl: string,
    private readonly config: QueryPlannerConfig,
  ) {
    this.enabled = !hasInaccessible(parse(supergraphSdl));
  }

  /** The single fetch answering this operation, or null: judged on first sight of the document, then remembered with it. */
  judge(document: DocumentNode, operationName: string | undefined): SingleFetch | null {
    if (!this.enabled) return null;
    return this.verdicts.get(document, operationName);
  }

  private singleFetchOf(document: DocumentNode, operationName: string | undefined): SingleFetch | null {
    if (hasDirectives(document)) return null;
    const { apiSchema, planner } = planningOver(this.supergraphSdl, this.config);
    let asked: Operation;
    let node: unknown;
    try {
      asked = operationFromDocument(apiSchema, document, { operationName });
      node = planner.buildQueryPlan(asked).node;
    } catch {
      return null; // the gateway reports whatever is wrong with it
    }
    const fetch = node as FetchNode | undefined;
    if (fetch?.kind !== 'Fetch' || fetch.operationKind !== 'query' || !fetch.operationDocumentNode || fetch.hasDefers) return null;
    if (fetch.requires?.length || fetch.inputRewrites?.length || fetch.outputRewrites?.length || fetch.contextRewrites?.length) return null;
    let fetched: Operation;
    try {
      fetched = operationFromDocument(apiSchema, fetch.operationDocumentNode, { validate: false });
    } catch {
      return null; // selects something the API schema does not have: not the client's selection
    }
    // Compared with fragments expanded: a client's named fragment on the field's own type
    // prints as an inline fragment until expanded; the fetch never has one.
    const selection = fetched.expandAllFragments().selectionSet;
    if (selection.toString() !== asked.expandAllFragments().selectionSet.toString()) return null;
    const roots: string[] = [];
    for (const root of selection.selections()) {
      if (root.kind !== 'FieldSelection') return null;
      const name = root.element.responseName();
      if (name.startsWith('__')) return null;
      roots.push(name);
    }
    return { fetch: fetch as SingleFetch['fetch'], roots };
  }
}

/** Any use of the `@inaccessible` spec's directive, under its own name or the one its `@link` imports it as. */
export function hasInaccessible(supergraph: DocumentNode): boolean {
  const names = new Set(['inaccessible']);
  visit(supergraph, {
    Directive(directive) {
      if (directive.name.value !== 'link') return;
      const argument = (name: string) => directive.arguments?.find((each) => each.name.value === name)?.value;
      const url = argument('url');
      const as = argument('as');
      if (url?.kind === Kind.STRING && url.value.includes('/inaccessible/') && as?.kind === Kind.STRING) names.add(as.value);
    },
  });
  let found = false;
  visit(supergraph, {
    Directive(directive) {
      if (!names.has(directive.name.value)) return;
      found = true;
      return BREAK;
    },
  });
  return found;
}

function hasDirectives(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive() {
      found = true;
      return BREAK;
    },
  });
  return found;
}
