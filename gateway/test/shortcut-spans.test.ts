import { readFileSync } from 'node:fs';
import { ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { registerTracing } from '@popug/lib/tracing/register';
import { SUPERGRAPH_FILE } from '../server';
import { SingleFetchGateway } from '../single-fetch-gateway';

/**
 * A recorded request takes the one-fetch shortcut too, with Apollo Gateway's steps recorded
 * around its fetch (docs/observability.md "Traces"): the subgraph is called under
 * `gateway.fetch`, and the answer is still the subgraph's own data.
 */
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
registerTracing(provider);

let answer: { data?: Record<string, unknown>; errors?: { message: string }[] } = {};
let calledUnder: string | undefined;
let calls = 0;
const tracker: GraphQLDataSource = {
  async process() {
    calls += 1;
    calledUnder = trace.getActiveSpan()?.spanContext().spanId;
    return answer;
  },
};

let server: ApolloServer;
beforeAll(async () => {
  const queryPlannerConfig = { exposeDocumentNodeInFetchNode: true };
  const gateway = new SingleFetchGateway(queryPlannerConfig, (wrap) => new ApolloGateway({ supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'), buildService: ({ name }) => wrap(name, tracker), queryPlannerConfig }));
  server = new ApolloServer({ gateway });
  await server.start();
});
afterAll(async () => {
  await server.stop();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  calls = 0;
});

const inRecordedRequest = <T>(work: () => Promise<T>) =>
  trace.getTracer('test').startActiveSpan('POST', async (span) => {
    try {
      return await work();
    } finally {
      span.end();
    }
  });

describe('the one-fetch shortcut in a recorded request', () => {
  it("answers with the subgraph's own data and records the request, execution and fetch, the call made under the fetch", async () => {
    const tasks = [{ id: 't1', title: 'Feed the popug', status: 'OPEN' }];
    answer = { data: { myTasks: tasks } };
    const response = await inRecordedRequest(() => server.executeOperation({ query: 'query MyTaskTitles { myTasks { id title status } }' }));
    expect(response.body.kind === 'single' && response.body.singleResult.data?.myTasks).toBe(tasks);
    expect(calls).toBe(1);
    const spans = exporter.getFinishedSpans();
    const named = (name: string) => spans.find((span) => span.name === name);
    expect(spans.map((span) => span.name).sort()).toEqual(['POST', 'gateway.execute', 'gateway.fetch', 'gateway.request']);
    expect(named('gateway.request')?.parentSpanContext?.spanId).toBe(named('POST')?.spanContext().spanId);
    expect(named('gateway.execute')?.parentSpanContext?.spanId).toBe(named('gateway.request')?.spanContext().spanId);
    expect(named('gateway.fetch')?.parentSpanContext?.spanId).toBe(named('gateway.execute')?.spanContext().spanId);
    expect(calledUnder).toBe(named('gateway.fetch')?.spanContext().spanId);
    expect(named('gateway.request')?.attributes).toMatchObject({ 'graphql.operation.name': 'MyTaskTitles', 'graphql.operation.type': 'query' });
    expect(named('gateway.fetch')?.attributes).toEqual({ service: 'tracker' });
  });

  it("hands an incomplete answer to Apollo's own path without calling again", async () => {
    answer = { data: { myTasks: null } as Record<string, unknown>, errors: [{ message: 'no tasks today' }] };
    const response = await inRecordedRequest(() => server.executeOperation({ query: 'query MyTaskTitles { myTasks { id title status } }' }));
    expect(response.body.kind === 'single' && response.body.singleResult.errors?.map((error) => error.message)).toEqual(['no tasks today']);
    expect(calls).toBe(1);
    // The call is in the trace under our fetch span. (Apollo's own spans follow in a process that starts tracing before it
    // loads @apollo/gateway, as lib/tracing/start.ts does; here its tracer was taken before: test/observability/traces.test.ts.)
    expect(calledUnder).toBe(exporter.getFinishedSpans().find((span) => span.name === 'gateway.fetch')?.spanContext().spanId);
  });
});
