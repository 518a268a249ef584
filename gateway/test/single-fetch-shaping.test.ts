import { readFileSync } from 'node:fs';
import { ApolloGateway, type GraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { contractOperation } from '@popug/testing/contract';
import { SUPERGRAPH_FILE } from '../server';
import { answerSingleFetchesAsTheSubgraphDid } from '../single-fetch-shaping';

/**
 * A one-fetch plan that selects exactly the client's selection is answered with the subgraph's
 * data as it came (docs/performance.md "Gateway CPU"); everything else is still shaped by Apollo. The
 * subgraphs here are stubs that answer each fetch with the data a test gives them.
 */
type Answer = { data?: Record<string, unknown> | null; errors?: { message: string }[] };
const answers: Record<string, Answer> = {};
const sent: Record<string, string[]> = {};

class StubSubgraph implements GraphQLDataSource {
  constructor(private readonly name: string) {}

  async process({ request }: GraphQLDataSourceProcessOptions): Promise<Answer> {
    (sent[this.name] ??= []).push(request.query ?? '');
    const answer = answers[this.name];
    if (!answer) throw new Error(`no answer for ${this.name}`);
    return answer;
  }
}

let server: ApolloServer;

beforeAll(async () => {
  answerSingleFetchesAsTheSubgraphDid();
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'), buildService: ({ name }) => new StubSubgraph(name), queryPlannerConfig: { exposeDocumentNodeInFetchNode: true } });
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

async function run(query: string, variables?: Record<string, unknown>): Promise<{ data?: Record<string, unknown> | null; errors?: readonly { message: string }[] }> {
  const response = await server.executeOperation({ query, variables });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return response.body.singleResult as { data?: Record<string, unknown> | null; errors?: readonly { message: string }[] };
}

describe('single-fetch plans', () => {
  it('answers a one-fetch query that selects what the client asked with the subgraph\'s own data', async () => {
    const tasks = [{ id: 't1', title: 'Feed the popug', status: 'OPEN' }];
    answers.tracker = { data: { myTasks: tasks } };
    const result = await run('query MyTaskTitles { myTasks { id title status } }');
    expect(result).toEqual({ data: { myTasks: [{ id: 't1', title: 'Feed the popug', status: 'OPEN' }] } });
    // Not copied by Apollo's result shaping: the very array the subgraph answered.
    expect(result.data?.myTasks).toBe(tasks);
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
    expect(Object.keys((result.data?.open as object[])[0] ?? {})).toEqual(['id', 'name']);
  });

  it('still shapes an answer when the fetch failed: no data, the subgraph\'s error passed on', async () => {
    answers.tracker = { data: null, errors: [{ message: 'boom' }] };
    const result = await run('{ myTasks { id } }');
    expect(result.data).toBeNull();
    expect(result.errors?.map(({ message }) => message)).toEqual(['boom']);
  });

  it('still shapes a root field the client skipped', async () => {
    answers.tracker = { data: {} };
    const result = await run('query ($skip: Boolean!) { myTasks @skip(if: $skip) { id } }', { skip: true });
    expect(result).toEqual({ data: {} });
  });

  it('still shapes a plan of several fetches', async () => {
    answers.tracker = { data: { myTasks: [{ id: 't1', assignee: { __typename: 'User', id: 'u1' } }] } };
    // `active` is auth's alone (tracker provides only name, email and role), so a second fetch.
    answers.auth = { data: { _entities: [{ active: true }] } };
    const result = await run('{ myTasks { id assignee { active } } }');
    expect(result).toEqual({ data: { myTasks: [{ id: 't1', assignee: { active: true } }] } });
  });

  it('still shapes an answer the gateway adds to: the root __typename, which it answers itself', async () => {
    const tasks = [{ id: 't1' }];
    answers.tracker = { data: { myTasks: tasks } };
    const result = await run('{ __typename myTasks { id } }');
    expect(sent.tracker?.[0]).not.toContain('__typename');
    expect(result.data).toEqual({ __typename: 'Query', myTasks: [{ id: 't1' }] });
    expect(result.data?.myTasks).not.toBe(tasks);
  });

  it('answers a nested selection the subgraph resolves alone (a reference\'s id) as it came', async () => {
    const tasks = [{ id: 't1', assignee: { id: 'u1' } }];
    answers.tracker = { data: { myTasks: tasks } };
    const result = await run('{ myTasks { id assignee { id } } }');
    expect(sent.tracker).toEqual(['{myTasks{id assignee{id}}}']);
    expect(result.data).toEqual({ myTasks: [{ id: 't1', assignee: { id: 'u1' } }] });
    expect(result.data?.myTasks).toBe(tasks);
  });
});
