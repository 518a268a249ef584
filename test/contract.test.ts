import {
  Kind,
  NoUndefinedVariablesRule,
  NoUnusedFragmentsRule,
  print,
  specifiedRules,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { apiSchema, contractDocument, contractOperation } from '@popug/testing/contract';
import { SUPERGRAPH_FILE } from '../gateway/server';

/**
 * The client contract (`schema/operations/contract.graphql`) against the API schema the gateway serves from the committed
 * supergraph: every operation and fragment must validate with no error. Subscriptions are checked
 * here like the rest (graphql-js's specified rules include "one root field per subscription"),
 * but they are not run over HTTP by the query-based runners (gateway/test/differential.test.ts
 * sends only the queries and mutations it names): they are run over WebSocket beside each
 * subgraph (subgraphs/<name>/test/subscriptions.test.ts) and through the gateway.
 */

type Definition = OperationDefinitionNode | FragmentDefinitionNode;

/** What outside clients send: an operation may be added here, never dropped, renamed or given other variables. */
const PUBLIC_OPERATIONS: Record<string, string> = {
  Register: 'mutation($email: String!, $name: String!, $password: String!)',
  Login: 'mutation($email: String!, $password: String!)',
  Logout: 'mutation()',
  LogoutEverywhere: 'mutation()',
  ChangePassword: 'mutation($current: String!, $new: String!)',
  RequestPasswordReset: 'mutation($email: String!)',
  ResetPassword: 'mutation($token: String!, $password: String!)',
  Me: 'query()',
  Access: 'query()',
  BusinessClock: 'query()',
  Users: 'query($role: String, $active: Boolean)',
  Roles: 'query()',
  CreateRole: 'mutation($name: String!)',
  SetUserRole: 'mutation($userId: ID!, $role: String!)',
  SetUserActive: 'mutation($userId: ID!, $active: Boolean!)',
  AllPermissions: 'query()',
  SetAuthPermission: 'mutation($role: String!, $permission: String!, $granted: Boolean!)',
  SetTrackerPermission: 'mutation($role: String!, $permission: String!, $granted: Boolean!)',
  SetAccountingPermission: 'mutation($role: String!, $permission: String!, $granted: Boolean!)',
  SetAnalyticsPermission: 'mutation($role: String!, $permission: String!, $granted: Boolean!)',
  CreateTask: 'mutation($title: String!, $description: String!, $jiraId: String)',
  CompleteTask: 'mutation($id: ID!)',
  ShuffleTasks: 'mutation()',
  MyTasks: 'query($status: TaskStatus)',
  Tasks: 'query($status: TaskStatus, $assigneeId: ID, $first: Int, $after: ID)',
  Task: 'query($id: ID!)',
  MyTaskList: 'query($status: TaskStatus, $search: String, $sort: TaskSort, $first: Int, $after: ID)',
  AllTaskList: 'query($status: TaskStatus, $assigneeId: ID, $search: String, $sort: TaskSort, $first: Int, $after: ID)',
  TaskAssignees: 'query($search: String, $first: Int, $after: ID)',
  TaskDetails: 'query($id: ID!)',
  MyAccount: 'query($day: Date)',
  Account: 'query($userId: ID!, $day: Date)',
  Accounts: 'query()',
  ManagementEarnings: 'query($day: Date)',
  EarningsByDay: 'query($from: Date!, $to: Date!)',
  CloseDay: 'mutation($day: Date)',
  AnalyticsSummary: 'query($day: Date)',
  MostExpensiveTask: 'query($period: Period!, $day: Date)',
  TasksByCreator: 'query($from: Date!, $to: Date!)',
  TaskUpdates: 'subscription()',
  MyAccountUpdates: 'subscription()',
  AnalyticsUpdates: 'subscription($day: Date)',
};

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

  it('keeps every public operation with its name and variables', () => {
    const signatures = Object.fromEntries(
      contract.definitions
        .filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
        .map((operation) => [operation.name?.value, `${operation.operation}(${(operation.variableDefinitions ?? []).map(print).join(', ')})`]),
    );
    expect(signatures).toEqual(PUBLIC_OPERATIONS);
  });

  it('names every subscription the way clients send it, each on one root field of one subgraph', () => {
    const subscriptions = contract.definitions
      .filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'subscription')
      .map((operation) => [operation.name?.value, operation.selectionSet.selections.map((selection) => (selection.kind === Kind.FIELD ? selection.name.value : selection.kind))]);
    expect(Object.fromEntries(subscriptions)).toEqual({
      TaskUpdates: ['taskUpdated'],
      MyAccountUpdates: ['myAccountUpdated'],
      AnalyticsUpdates: ['analyticsUpdated'],
    });
    expect(contractOperation('TaskUpdates')).toMatch(/^subscription TaskUpdates \{[^#]*\n\nfragment TaskFields on Task \{/);
    expect(contractOperation('Task')).not.toMatch(/subscription|#/);
  });

  it('validates every operation and fragment with no error', () => {
    const problems = Object.fromEntries([...definitions.keys()].map((name) => [name, problemsOf(name)]));
    expect(problems).toEqual(Object.fromEntries([...definitions.keys()].map((name) => [name, []])));
  });
});
