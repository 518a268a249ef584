import { readFileSync } from 'node:fs';
import { ApolloGateway, type GraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { parse } from 'graphql';
import { contractOperation } from '@popug/testing/contract';
import { SUPERGRAPH_FILE } from '../server';
import { SingleFetchGateway } from '../single-fetch-gateway';
import { hasInaccessible, SingleFetchPlans } from '../single-fetch-plans';

/**
 * A one-fetch plan that selects exactly the client's selection is answered with the subgraph's
 * data as it came (docs/performance.md "Gateway CPU"); everything else goes through the stock
 * ApolloGateway, without asking the subgraph twice. The subgraphs here are stubs that answer
 * each fetch with the data a test gives them (gateway/test/differential.test.ts compares real
 * answers with Apollo's own gateway).
 */
type Answer = { data?: Record<string, unknown> | null; errors?: { message: string; path?: string[] }[] };
const answers: Record<string, Answer | Error> = {};
const sent: Record<string, string[]> = {};

class StubSubgraph implements GraphQLDataSource {
  constructor(private readonly name: string) {}

  async process({ request }: GraphQLDataSourceProcessOptions): Promise<Answer> {
    (sent[this.name] ??= []).push(request.query ?? '');
    const answer = answers[this.name];
    if (!answer) throw new Error(`no answer for ${this.name}`);
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

const SUPERGRAPH = readFileSync(SUPERGRAPH_FILE, 'utf8');
let server: ApolloServer;

beforeAll(async () => {
  const queryPlannerConfig = { exposeDocumentNodeInFetchNode: true };
  const gateway = new SingleFetchGateway(queryPlannerConfig, (wrap) => new ApolloGateway({ supergraphSdl: SUPERGRAPH, buildService: ({ name }) => wrap(name, new StubSubgraph(name)), queryPlannerConfig }));
  server = new ApolloServer({ gateway });
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  for (const name of Object.keys(answers)) delete answers[name];
  for (const name of Object.keys(sent)) delete sent[name];
});

interface Result {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
}

async function run(query: string, variables?: Record<string, unknown>): Promise<Result> {
  const response = await server.executeOperation({ query, variables });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult as Result;
}

describe('single-fetch plans', () => {
  it("answers a one-fetch query that selects what the client asked with the subgraph's own data", async () => {
    const tasks = [{ id: 't1', title: 'Feed the popug', status: 'OPEN' }];
    answers.tracker = { data: { myTasks: tasks } };
    const result = await run('query MyTaskTitles { myTasks { id title status } }');
    expect(result).toEqual({ data: { myTasks: [{ id: 't1', title: 'Feed the popug', status: 'OPEN' }] } });
    // Not copied by Apollo's result shaping: the very array the subgraph answered.
    expect(result.data?.myTasks).toBe(tasks);
    expect(sent.tracker).toHaveLength(1);
  });

  it("answers the contract's MyTasks, whose fields come in a named fragment, with the subgraph's own data", async () => {
    const assignee = { id: 'u1', name: 'Popug', email: 'popug@popug.test', role: 'worker' };
    const tasks = [{ id: 't1', title: 'Feed', jiraId: null, description: 'Seeds', status: 'OPEN', assignFee: 1000, completionReward: 2000, createdAt: '2026-12-01T00:00:00.000Z', completedAt: null, assignee }];
    answers.tracker = { data: { myTasks: tasks } };
    const result = await run(contractOperation('MyTasks'));
    expect(result.data?.myTasks).toBe(tasks);
  });

  it('keeps aliases, fragments, arguments and key order as the client wrote them', async () => {
    answers.tracker = { data: { open: [{ id: 't1', name: 'Feed' }], done: [] } };
    const result = await run('query { open: myTasks(status: OPEN) { ...Head } done: myTasks(status: DONE) { id } } fragment Head on Task { id name: title }');
    expect(sent.tracker?.[0]).toContain('open:myTasks(status:OPEN)');
    expect(result.data).toEqual({ open: [{ id: 't1', name: 'Feed' }], done: [] });
    expect(Object.keys(result.data ?? {})).toEqual(['open', 'done']);
  });

  it("sends only the variables the fetch uses, as Apollo's executeQueryPlan does", async () => {
    answers.tracker = { data: { myTasks: [] } };
    await run('query ($s: TaskStatus) { myTasks(status: $s) { id } }', { s: 'OPEN' });
    expect(sent.tracker).toHaveLength(1);
  });

  it("hands a subgraph error to Apollo's shaping without asking the subgraph again", async () => {
    answers.tracker = { data: null, errors: [{ message: 'boom' }] };
    const result = await run('{ myTasks { id } }');
    expect(result.data).toBeNull();
    expect(result.errors?.map(({ message }) => message)).toEqual(['boom']);
    expect(sent.tracker).toHaveLength(1);
  });

  it("hands a failed call to Apollo's shaping without calling again", async () => {
    answers.tracker = new Error('connection refused');
    const result = await run('{ myTasks { id } }');
    expect(result.errors?.length).toBe(1);
    expect(sent.tracker).toHaveLength(1);
  });

  it('never judges an operation with a directive a single fetch: Apollo shapes a skipped root field', async () => {
    answers.tracker = { data: {} };
    const result = await run('query ($skip: Boolean!) { myTasks @skip(if: $skip) { id } }', { skip: true });
    expect(result).toEqual({ data: {} });
  });

  it('leaves variables that do not validate to the stock path, which reports them', async () => {
    answers.tracker = { data: { myTasks: [] } };
    const result = await run('query ($s: TaskStatus) { myTasks(status: $s) { id } }', { s: 'NOT_A_STATUS' });
    expect(result.errors?.length).toBe(1);
    expect(sent.tracker).toBeUndefined();
  });

  it('shapes a plan of several fetches as Apollo does', async () => {
    answers.tracker = { data: { myTasks: [{ id: 't1', assignee: { __typename: 'User', id: 'u1' } }] } };
    // `active` is auth's alone (tracker provides only name, email and role), so a second fetch.
    answers.auth = { data: { _entities: [{ active: true }] } };
    const result = await run('{ myTasks { id assignee { active } } }');
    expect(result).toEqual({ data: { myTasks: [{ id: 't1', assignee: { active: true } }] } });
  });

  it('shapes an answer the gateway adds to: the root __typename, which it answers itself', async () => {
    const tasks = [{ id: 't1' }];
    answers.tracker = { data: { myTasks: tasks } };
    const result = await run('{ __typename myTasks { id } }');
    expect(result.data).toEqual({ __typename: 'Query', myTasks: [{ id: 't1' }] });
    expect(result.data?.myTasks).not.toBe(tasks);
    expect(sent.tracker).toHaveLength(1);
  });
});

describe('@inaccessible', () => {
  it('is found in the committed supergraph nowhere, so the shortcut is on', () => {
    expect(hasInaccessible(parse(SUPERGRAPH))).toBe(false);
  });

  it('is found under its own name and under the name its @link gives it', () => {
    const link = (as = '') => `schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/inaccessible/v0.2"${as ? `, as: "${as}"` : ''}, for: SECURITY) { query: Query }`;
    expect(hasInaccessible(parse(`${link()} type Query { a: Int @inaccessible b: Int }`))).toBe(true);
    expect(hasInaccessible(parse(`${link('hidden')} type Query { a: Int @hidden b: Int }`))).toBe(true);
    expect(hasInaccessible(parse(`${link()} type Query { a: Int b: Int }`))).toBe(false);
  });

  it('turns the judgement off: every operation goes to the stock gateway', () => {
    const config = { exposeDocumentNodeInFetchNode: true };
    const document = parse('{ myTasks { id } }');
    expect(new SingleFetchPlans(SUPERGRAPH, config).judge(document, undefined)?.roots).toEqual(['myTasks']);
    const hidden = SUPERGRAPH.replace(/(\n\s+myTasks\b[^\n]*)/, '$1 @inaccessible');
    expect(hidden).not.toBe(SUPERGRAPH);
    const plans = new SingleFetchPlans(hidden, config);
    expect(plans.enabled).toBe(false);
    expect(plans.judge(document, undefined)).toBeNull();
  });
});
