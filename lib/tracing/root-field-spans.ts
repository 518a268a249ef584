import { context as otelContext, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { operationSpanOf } from './operation-spans';

const tracer = () => trace.getTracer('popug-graphql');

/**
 * A `graphql.resolve <field>` span around each root field (Query and Mutation) of a request
 * whose trace is recorded, with the GraphQL instrumentation's attribute names, a child of the
 * request's operation span (./operation-spans.ts) or, outside Apollo, of the active span. The
 * instrumentation's way of making them (docs/observability.md "Traces", cost) wrapped every
 * field resolver of the schema after the first sampled request, for good, and in a sampled
 * request switched context around every field of every row: a fifth of a subgraph's CPU for a
 * list of tasks. Root fields are where our resolvers hand off to the services that touch the
 * database, so their spans hold the statements; below them a field reads what its root field
 * loaded.
 */
export function spanRootFields(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) field.resolve = inRootFieldSpan(field.resolve ?? defaultFieldResolver);
  }
  return schema;
}

function inRootFieldSpan<TSource, TContext, TArgs>(resolve: GraphQLFieldResolver<TSource, TContext, TArgs>): GraphQLFieldResolver<TSource, TContext, TArgs> {
  return function resolveInSpan(this: unknown, source, args, context, info) {
    const operation = operationSpanOf(context);
    const active = operation ?? trace.getActiveSpan();
    if (!active?.isRecording()) {
      // An untraced request (lib/tracing/untraced.ts) runs in no span; should something have made the SDK's invalid one active,
      // the statements and commands below would find it as their parent: without it `pg` and `ioredis` skip their work.
      if (active && isTracingSuppressed(otelContext.active())) return otelContext.with(trace.deleteSpan(otelContext.active()), () => resolve.call(this, source, args, context, info));
      return resolve.call(this, source, args, context, info);
    }
    const attributes = { 'graphql.field.name': info.fieldName, 'graphql.field.path': info.fieldName, 'graphql.field.type': info.returnType.toString(), 'graphql.parent.name': info.parentType.name };
    const parent = operation ? trace.setSpan(otelContext.active(), operation) : otelContext.active();
    return tracer().startActiveSpan(`graphql.resolve ${info.fieldName}`, { attributes }, parent, (span) => {
      try {
        const result: unknown = resolve.call(this, source, args, context, info);
        if (!(result instanceof Promise)) return endWith(span, result);
        return result.then(
          (value: unknown) => endWith(span, value),
          (error: unknown) => failWith(span, error),
        );
      } catch (error) {
        return failWith(span, error);
      }
    });
  };
}

function endWith<T>(span: Span, value: T): T {
  span.end();
  return value;
}

function failWith(span: Span, error: unknown): never {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.end();
  throw error;
}
