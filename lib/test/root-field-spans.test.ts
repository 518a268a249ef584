import { context, ROOT_CONTEXT, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { buildSchema, graphql, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { registerTracing } from '../tracing/register';
import { spanRootFields } from '../tracing/root-field-spans';
import { untracedContext } from '../tracing/untraced';

/**
 * Resolver spans of a recorded request (docs/observability.md "Traces"): one per root field, wrapping its
 * resolver, the statements it issues below it; none for nested fields, none at all when the
 * request's trace is not recorded.
 */
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
registerTracing(provider);
afterAll(() => provider.shutdown());
afterEach(() => exporter.reset());

const tracer = () => trace.getTracer('test');
/** The span a root field's statements would find as their parent (what `requireParentSpan` looks at). */
let spanSeenByStatements: ReturnType<typeof trace.getActiveSpan>;
const schema = spanRootFields(
  withResolvers(buildSchema('type Task { id: ID! title: String! } type Query { tasks: [Task!]! broken: Int } type Mutation { close(id: ID!): Task! }'), {
    tasks: async () => {
      spanSeenByStatements = trace.getActiveSpan();
      tracer().startSpan('pg.query:SELECT').end();
      return [{ id: '1', title: 'one' }, { id: '2', title: 'two' }];
    },
    broken: () => {
      throw new Error('no such row');
    },
    close: (_source, { id }) => ({ id, title: 'closed' }),
  }),
);

function withResolvers(built: GraphQLSchema, resolvers: Record<string, GraphQLFieldResolver<unknown, unknown>>): GraphQLSchema {
  const rootFields = { ...built.getQueryType()?.getFields(), ...built.getMutationType()?.getFields() };
  for (const [name, resolve] of Object.entries(resolvers)) (rootFields[name] as { resolve?: GraphQLFieldResolver<unknown, unknown> }).resolve = resolve;
  return built;
}
const spanNames = () => exporter.getFinishedSpans().map((span) => span.name);

describe('root-field resolver spans', () => {
  it('wraps each root field of a recorded request, with its statements below it, and no nested field', async () => {
    await tracer().startActiveSpan('POST', async (request) => {
      const result = await graphql({ schema, source: 'query { tasks { id title } } ', contextValue: {} });
      expect(result.errors).toBeUndefined();
      await graphql({ schema, source: 'mutation { close(id: "7") { id } }', contextValue: {} });
      request.end();
    });
    expect(spanNames().sort()).toEqual(['POST', 'graphql.resolve close', 'graphql.resolve tasks', 'pg.query:SELECT']);
    const spans = exporter.getFinishedSpans();
    const resolveTasks = spans.find((span) => span.name === 'graphql.resolve tasks');
    expect(resolveTasks?.attributes).toEqual({ 'graphql.field.name': 'tasks', 'graphql.field.path': 'tasks', 'graphql.field.type': '[Task!]!', 'graphql.parent.name': 'Query' });
    expect(spans.find((span) => span.name === 'pg.query:SELECT')?.parentSpanContext?.spanId).toBe(resolveTasks?.spanContext().spanId);
  });

  it('records a resolver\'s error on its span and still answers the error', async () => {
    const result = await tracer().startActiveSpan('POST', async (request) => {
      const answer = await graphql({ schema, source: '{ broken }', contextValue: {} });
      request.end();
      return answer;
    });
    expect(result.errors?.map((error) => error.message)).toEqual(['no such row']);
    const broken = exporter.getFinishedSpans().find((span) => span.name === 'graphql.resolve broken');
    expect(broken?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no such row' });
    expect(broken?.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('makes no span outside a trace, nor in a trace nobody keeps', async () => {
    // Outside any span the provider's sampler would keep a new root: a wrapper that always opened one would show here.
    const result = await graphql({ schema, source: '{ tasks { id } }', contextValue: {} });
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.NONE });
    const underUnsampled = await tracer().startActiveSpan('unsampled', {}, unsampled, async (span) => {
      const answer = await graphql({ schema, source: '{ tasks { id } }', contextValue: {} });
      span.end();
      return answer;
    });
    expect(result.data).toEqual({ tasks: [{ id: '1' }, { id: '2' }] });
    expect(underUnsampled.data).toEqual(result.data);
    expect(spanNames()).toEqual(['pg.query:SELECT']);
  });

  it('in an untraced request, leaves its statements no parent span at all, so pg and ioredis skip them', async () => {
    const untraced = untracedContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.NONE });
    // As the GraphQL instrumentation runs execute: under the span the SDK hands out while tracing is suppressed.
    const result = await context.with(untraced, () => tracer().startActiveSpan('graphql.execute', (execute) => graphql({ schema, source: '{ tasks { id } }', contextValue: {} }).finally(() => execute.end())));
    expect(result.data).toEqual({ tasks: [{ id: '1' }, { id: '2' }] });
    expect(spanSeenByStatements).toBeUndefined();
    expect(spanNames()).toEqual([]);
  });
});
