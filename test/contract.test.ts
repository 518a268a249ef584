import {
  Kind,
  NoUndefinedVariablesRule,
  NoUnusedFragmentsRule,
  specifiedRules,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { apiSchema, contractDocument } from '@popug/lib/testing/contract';
import { SUPERGRAPH_FILE } from '../gateway/server';

/**
 * The client contract (`../shared/contract/operations.graphql`, beside the repository in
 * development and in CI) against the API schema the gateway serves from the committed
 * supergraph: every operation and fragment must validate with no error.
 */

type Definition = OperationDefinitionNode | FragmentDefinitionNode;

let schema: GraphQLSchema;
let contract: DocumentNode;
let definitions: Map<string, Definition>;

beforeAll(async () => {
  schema = await apiSchema(SUPERGRAPH_FILE);
  contract = contractDocument();
  definitions = new Map(
    contract.definitions.filter(isNamedDefinition).map((definition) => [definition.name?.value ?? '', definition]),
  );
});

function isNamedDefinition(definition: DefinitionNode): definition is Definition {
  return (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) && Boolean(definition.name);
}

/** The fragments `definition` spreads, directly or through other fragments. */
function fragmentsOf(definition: Definition, seen = new Set<string>()): FragmentDefinitionNode[] {
  visit(definition, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      const fragment = definitions.get(name);
      if (seen.has(name) || fragment?.kind !== Kind.FRAGMENT_DEFINITION) return;
      seen.add(name);
      fragmentsOf(fragment, seen);
    },
  });
  return [...seen].map((name) => definitions.get(name)).filter((node): node is FragmentDefinitionNode => node?.kind === Kind.FRAGMENT_DEFINITION);
}

/**
 * Validation messages for one definition: an operation with the fragments it uses, or a
 * fragment alone (its variables come from whichever operation spreads it).
 */
function problemsOf(name: string): string[] {
  const definition = definitions.get(name);
  if (!definition) return [`"${name}" is not in the contract`];
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [definition, ...fragmentsOf(definition)] };
  const rules =
    definition.kind === Kind.FRAGMENT_DEFINITION
      ? specifiedRules.filter((rule) => rule !== NoUnusedFragmentsRule && rule !== NoUndefinedVariablesRule)
      : specifiedRules;
  return validate(schema, document, rules).map((error) => error.message);
}

describe('the client contract against the composed supergraph', () => {
  it('holds named operations and fragments, none twice', () => {
    expect(definitions.size).toBe(contract.definitions.length);
    expect(definitions.size).toBeGreaterThanOrEqual(27);
  });

  it('validates every operation and fragment with no error', () => {
    const problems = Object.fromEntries([...definitions.keys()].map((name) => [name, problemsOf(name)]));
    expect(problems).toEqual(Object.fromEntries([...definitions.keys()].map((name) => [name, []])));
  });
});
