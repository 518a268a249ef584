import { ApolloServer, type BaseContext } from '@apollo/server';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { buildSchema, parse, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { operationSpansPlugin, redactedSource } from '../tracing/operation-spans';
import { registerTracing } from '../tracing/register';
import { spanRootFields } from '../tracing/root-field-spans';
import { untracedContext } from '../tracing/untraced';

/**
 * GraphQL's spans from Apollo Server's hooks (docs/observability.md "Traces"): parse, validate
 * and the operation for a recorded request, the root fields' spans below the operation and
 * their statements below those; nothing at all for a request nobody records.
 */
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
registerTracing(provider);
afterEach(() => exporter.reset());

const tracer = () => trace.getTracer('test');
let spanSeenByStatements: ReturnType<typeof trace.getActiveSpan>;

function withResolvers(built: GraphQLSchema, resolvers: Record<string, GraphQLFieldResolver<unknown, unknown>>): GraphQLSchema {
  const rootFields = { ...built.getQueryType()?.getFields(), ...built.getMutationType()?.getFields() };
  for (const [name, resolve] of Object.entries(resolvers)) (rootFields[name] as { resolve?: GraphQLFieldResolver<unknown, unknown> }).resolve = resolve;
  return built;
}

const schema = spanRootFields(
  withResolvers(buildSchema('type Task { id: ID! title: String! } type Query { tasks(title: String, first: Int): [Task!]! }'), {
    tasks: async () => {
      spanSeenByStatements = trace.getActiveSpan();
      tracer().startSpan('pg.query:SELECT').end();
      return [{ id: '1', title: 'one' }];
    },
  }),
);

async function server(operation: boolean): Promise<ApolloServer<BaseContext>> {
  const apollo = new ApolloServer<BaseContext>({ schema, plugins: [operationSpansPlugin({ operation })] });
  await apollo.start();
  return apollo;
}

let subgraph: ApolloServer<BaseContext>;
let gateway: ApolloServer<BaseContext>;
beforeAll(async () => {
  subgraph = await server(true);
  gateway = await server(false);
});
afterAll(async () => {
  await subgraph.stop();
  await gateway.stop();
  await provider.shutdown();
});

const QUERY = 'query MyTasks { tasks(title: "secret", first: 3) { id title } }';
const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().find((span) => span.name === name);

describe('GraphQL spans from Apollo Server\'s hooks', () => {
  it('records parse, validate and the operation of a recorded request, the root field under the operation, its statements under the field', async () => {
    await tracer().startActiveSpan('POST', async (request) => {
      const response = await subgraph.executeOperation({ query: QUERY });
      expect(response.body.kind === 'single' && response.body.singleResult.errors).toBeUndefined();
      request.end();
    });
    expect(spans().map((span) => span.name).sort()).toEqual(['POST', 'graphql.parse', 'graphql.resolve tasks', 'graphql.validate', 'pg.query:SELECT', 'query MyTasks']);
    const post = named('POST');
    const operation = named('query MyTasks');
    const resolve = named('graphql.resolve tasks');
    for (const step of ['graphql.parse', 'graphql.validate', 'query MyTasks']) expect({ step, parent: named(step)?.parentSpanContext?.spanId }).toEqual({ step, parent: post?.spanContext().spanId });
    expect(resolve?.parentSpanContext?.spanId).toBe(operation?.spanContext().spanId);
    expect(named('pg.query:SELECT')?.parentSpanContext?.spanId).toBe(resolve?.spanContext().spanId);
    // The instrumentation's attribute names; literal values are not recorded.
    expect(operation?.attributes).toEqual({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'MyTasks', 'graphql.source': 'query MyTasks { tasks(title: "*", first: *) { id title } }' });
  });

  it('records a validation failure on the validate span, and starts no operation', async () => {
    await tracer().startActiveSpan('POST', async (request) => {
      await subgraph.executeOperation({ query: '{ nope }' });
      request.end();
    });
    expect(spans().map((span) => span.name).sort()).toEqual(['POST', 'graphql.parse', 'graphql.validate']);
    expect(named('graphql.validate')?.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('leaves the operation span to the gateway\'s own step where told to', async () => {
    await tracer().startActiveSpan('POST', async (request) => {
      await gateway.executeOperation({ query: QUERY });
      request.end();
    });
    expect(spans().map((span) => span.name).sort()).toEqual(['POST', 'graphql.parse', 'graphql.resolve tasks', 'graphql.validate', 'pg.query:SELECT']);
  });

  it('makes no span in a request nobody records, and its statements find no parent', async () => {
    const untraced = untracedContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.NONE });
    spanSeenByStatements = tracer().startSpan('placeholder');
    const response = await context.with(untraced, () => subgraph.executeOperation({ query: QUERY }));
    expect(response.body.kind === 'single' && response.body.singleResult.data).toEqual({ tasks: [{ id: '1', title: 'one' }] });
    expect(spanSeenByStatements).toBeUndefined();
    expect(spans().map((span) => span.name)).toEqual([]);
  });

  it('writes a document\'s literal values as *', () => {
    expect(redactedSource(parse('mutation M($d: String) { a(x: 1.5, y: """long""", z: $d, w: ENUM) { id } }'))).toBe('mutation M($d: String) { a(x: *, y: "*", z: $d, w: ENUM) { id } }');
  });
});
