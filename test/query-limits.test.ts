import { Kind, Lexer, Source, TokenKind, parse, print, validate, visit, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { GATEWAY_QUERY_LIMITS, SUBGRAPH_QUERY_LIMITS, queryLimitProtection, type QueryLimits } from '../lib/graphql-limits';
import { apiSchema, contractDocument } from '@popug/testing/contract';
import { SUPERGRAPH_FILE } from '../gateway/server';

/**
 * Every operation of the client contract passes the gateway's query limits (and the
 * subgraphs', which are wider); the abusive shapes the hostile suite sends do not.
 */

let schema: GraphQLSchema;
let contract: DocumentNode;

beforeAll(async () => {
  schema = await apiSchema(SUPERGRAPH_FILE);
  contract = contractDocument();
});

/** One operation of the contract with every fragment of the file, as a client sends it. */
function operationDocuments(): [string, DocumentNode][] {
  const fragments = contract.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION);
  return contract.definitions
    .filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
    .map((operation) => [operation.name?.value ?? '', { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] }]);
}

function limitProblems(document: DocumentNode, limits: QueryLimits): string[] {
  const { validationRules } = queryLimitProtection(limits, { hideSchema: false });
  return validate(schema, document, validationRules).map((error) => error.message);
}

function tokenCount(text: string): number {
  const lexer = new Lexer(new Source(text));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count += 1;
  return count;
}

describe('query limits', () => {
  it('let every contract operation through, at the gateway and in the subgraphs', () => {
    const operations = operationDocuments();
    expect(operations.length).toBeGreaterThanOrEqual(25);
    for (const limits of [GATEWAY_QUERY_LIMITS, SUBGRAPH_QUERY_LIMITS]) {
      const problems = Object.fromEntries(operations.map(([name, document]) => [name, limitProblems(document, limits)]));
      expect(problems).toEqual(Object.fromEntries(operations.map(([name]) => [name, []])));
      for (const [name, document] of operations) expect([name, tokenCount(print(document)) < limits.maxTokens]).toEqual([name, true]);
    }
  });

  it('leave the contract room to grow: depth and aliases well under the gateway limits', () => {
    let deepest = 0;
    for (const [, document] of operationDocuments()) {
      let depth = 0;
      visit(document, {
        SelectionSet: {
          enter: () => void (deepest = Math.max(deepest, ++depth)),
          leave: () => void (depth -= 1),
        },
      });
    }
    expect(deepest).toBeLessThan(GATEWAY_QUERY_LIMITS.maxDepth);
  });

  it.each([
    ['too deep', `{ ${'... on Query { '.repeat(20)}me { id }${' }'.repeat(20)} }`],
    ['an alias bomb', `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(' ')} }`],
    ['directive flooding', `{ me { id ${'@include(if: true) '.repeat(40)} } }`],
    ['a wide and costly query', `{ ${Array.from({ length: 14 }, (_, i) => `t${i}: tasks(first: 100) { id title assignee { id name email role } }`).join(' ')} }`],
  ])('refuse %s at the gateway', (_label, query) => {
    expect(limitProblems(parse(query), GATEWAY_QUERY_LIMITS)).not.toEqual([]);
  });
});
