import type { DocumentNode, OperationDefinitionNode } from 'graphql';

/**
 * One federation `Operation` per document for shaping answers (docs/performance.md "Gateway CPU").
 *
 * Apollo's gateway caches the query plan of a document, but `executeQueryPlan` rebuilds the
 * operation the plan's results are shaped by (`operationFromDocument` over the API schema)
 * on every request: about 4 % of the gateway's CPU. Apollo Server hands every request of a
 * known document the same parsed `DocumentNode` (its document store), so the operation node
 * identifies the document, and the operation built for it the first time serves every
 * later request: the result shaping only reads it.
 *
 * There is no option for this in @apollo/gateway 2.14, so the module export every caller
 * reads through (`@apollo/federation-internals`' index re-exports it with a getter) is
 * wrapped once per process. Only the shaping call is memoized — recognisable by
 * `validate: false` and a document built around an operation node — so planning, which
 * validates, still goes through the original; anything unexpected calls the original too.
 */
type OperationFromDocument = (schema: object, document: DocumentNode, options?: { operationName?: string; validate?: boolean }) => unknown;
interface OperationsModule {
  operationFromDocument: OperationFromDocument & { memoizedPerDocument?: true };
}

// A deep require: the module whose export the package index reads on every call.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const operations = require('@apollo/federation-internals/dist/operations') as OperationsModule;

export function shapeWithOneOperationPerDocument(): void {
  const original = operations.operationFromDocument;
  if (original.memoizedPerDocument) return;
  const built = new WeakMap<OperationDefinitionNode, WeakMap<object, unknown>>();
  const memoized: OperationsModule['operationFromDocument'] = (schema, document, options) => {
    const operation = document.definitions[0];
    if (options?.validate !== false || options.operationName !== undefined || operation?.kind !== 'OperationDefinition') {
      return original(schema, document, options);
    }
    let bySchema = built.get(operation);
    if (!bySchema) {
      bySchema = new WeakMap();
      built.set(operation, bySchema);
    }
    // Keyed by schema too: a new supergraph builds a new API schema, hence new operations.
    if (!bySchema.has(schema)) bySchema.set(schema, original(schema, document, options));
    return bySchema.get(schema);
  };
  memoized.memoizedPerDocument = true;
  operations.operationFromDocument = memoized;
}
