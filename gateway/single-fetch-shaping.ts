import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { Kind } from 'graphql';
import { shapeWithOneOperationPerDocument } from './shaping-operations';

/**
 * A plan of one fetch whose selection is the client's own: the subgraph's answer is the
 * answer (docs/performance.md "Gateway CPU").
 *
 * Apollo's gateway shapes every answer by walking the operation over the merged data
 * (`computeResponse`: copying each object, checking each leaf against the API schema, null
 * bubbling, aliases, `__typename`): about a tenth of its CPU. When the plan is a single fetch
 * at the root — no entities, no `@requires`, no rewrites, no `@defer` — and that fetch selects
 * exactly what the client asked for (the two selections, fragments expanded, print the same:
 * the same fields, aliases, arguments and directives in the same order; anything the planner
 * added, such as a `__typename`, makes them differ), the subgraph has done all of it already:
 * it answered that very selection by the GraphQL rules, against a schema whose types are the
 * supergraph's (no `@inaccessible` anywhere in ours; composition makes a field non-null in the
 * supergraph only where every subgraph's is, so the subgraph's nulls already bubbled at least as
 * far). The walk would copy the data unchanged, so its result is the data itself.
 *
 * Only when the data is complete: every root field of the selection answered (not undefined).
 * A failed fetch (no data), a root field `@skip`ped or anything else goes through
 * `computeResponse` as before, as do all other plans. Errors are untouched: Apollo gathers the
 * subgraph's errors apart from the shaping.
 *
 * Both hooks are module exports the gateway reads per call (`executeQueryPlan` from the gateway's
 * index, `computeResponse` from execution), wrapped once per process. The plan is judged once
 * (plans are cached and handed out as the same object); the operation object is the one built
 * per document (shaping-operations.ts), so the judgement reaches `computeResponse` through it.
 */
interface FetchNode {
  kind: 'Fetch';
  operationKind: string;
  operationDocumentNode?: DocumentNode;
  requires?: unknown[];
  inputRewrites?: unknown[];
  outputRewrites?: unknown[];
  contextRewrites?: unknown[];
  hasDefers?: boolean;
}
interface QueryPlan {
  node?: { kind: string };
}
interface ShapingOperation {
  selectionSet: {
    toString(): string;
    selections(): readonly { kind: string; element: { responseName?: () => string } }[];
  };
  expandAllFragments(): ShapingOperation;
}
interface OperationContext {
  operation: OperationDefinitionNode;
  fragments: Record<string, unknown>;
}
type OperationFromDocument = (schema: object, document: DocumentNode, options: { validate: false }) => ShapingOperation;
type ExecuteQueryPlan = ((plan: QueryPlan, serviceMap: unknown, requestContext: unknown, operationContext: OperationContext, supergraphSchema: unknown, apiSchema: object, ...rest: unknown[]) => Promise<unknown>) & { judgesSingleFetches?: true };
type ComputeResponse = (args: { operation: ShapingOperation; input: Record<string, unknown> | null | undefined }) => { data: unknown; errors: unknown[] };

/* eslint-disable @typescript-eslint/no-require-imports -- deep requires: the modules whose exports the gateway reads on every call. */
const execution = require('@apollo/gateway/dist/executeQueryPlan') as { executeQueryPlan: ExecuteQueryPlan };
const shaping = require('@apollo/gateway/dist/resultShaping') as { computeResponse: ComputeResponse };
const operations = require('@apollo/federation-internals/dist/operations') as { operationFromDocument: OperationFromDocument };
/* eslint-enable @typescript-eslint/no-require-imports */

export function answerSingleFetchesAsTheSubgraphDid(): void {
  if (execution.executeQueryPlan.judgesSingleFetches) return;
  shapeWithOneOperationPerDocument();
  /** Per plan: the root response names when its one fetch selects exactly the operation, else null. */
  const judged = new WeakMap<QueryPlan, readonly string[] | null>();
  /** Operations whose answers are the subgraph's data, with their root response names. */
  const asAnswered = new WeakMap<ShapingOperation, readonly string[]>();
  const originalExecute = execution.executeQueryPlan;
  const execute: ExecuteQueryPlan = (plan, serviceMap, requestContext, operationContext, supergraphSchema, apiSchema, ...rest) => {
    let roots = judged.get(plan);
    if (roots === undefined) {
      roots = rootsIfSelectedAsAsked(plan, shapingOperationOf(apiSchema, operationContext), apiSchema);
      judged.set(plan, roots);
    }
    if (roots) asAnswered.set(shapingOperationOf(apiSchema, operationContext), roots);
    return originalExecute(plan, serviceMap, requestContext, operationContext, supergraphSchema, apiSchema, ...rest);
  };
  execute.judgesSingleFetches = true;
  execution.executeQueryPlan = execute;
  const originalCompute = shaping.computeResponse;
  shaping.computeResponse = (args) => {
    const roots = asAnswered.get(args.operation);
    const input = args.input;
    if (roots && input && roots.every((name) => input[name] !== undefined)) return { data: input, errors: [] };
    return originalCompute(args);
  };
}

/** The operation `executeQueryPlan` shapes by: the same call, so the same (per-document) object. */
function shapingOperationOf(apiSchema: object, { operation, fragments }: OperationContext): ShapingOperation {
  const document = { kind: Kind.DOCUMENT, definitions: [operation, ...Object.values(fragments)] } as DocumentNode;
  return operations.operationFromDocument(apiSchema, document, { validate: false });
}

function rootsIfSelectedAsAsked(plan: QueryPlan, operation: ShapingOperation, apiSchema: object): readonly string[] | null {
  const fetch = plan.node as FetchNode | undefined;
  if (fetch?.kind !== 'Fetch' || fetch.operationKind !== 'query' || !fetch.operationDocumentNode || fetch.hasDefers) return null;
  if (fetch.requires?.length || fetch.inputRewrites?.length || fetch.outputRewrites?.length || fetch.contextRewrites?.length) return null;
  let fetched: ShapingOperation;
  try {
    fetched = operations.operationFromDocument(apiSchema, fetch.operationDocumentNode, { validate: false });
  } catch {
    return null; // selects something the API schema does not have: not the client's selection
  }
  // Compared with fragments expanded: a client's named fragment on the field's own type (the
  // contract's `...TaskFields`) prints as an inline fragment until expanded, the fetch never has one.
  const fetchedSelection = fetched.expandAllFragments().selectionSet;
  if (fetchedSelection.toString() !== operation.expandAllFragments().selectionSet.toString()) return null;
  const roots: string[] = [];
  for (const selection of fetchedSelection.selections()) {
    const name = selection.kind === 'FieldSelection' ? selection.element.responseName?.() : undefined;
    if (name === undefined || name.startsWith('__')) return null;
    roots.push(name);
  }
  return roots;
}
