import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { context, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { TokenKind, type DocumentNode } from 'graphql';

const tracer = () => trace.getTracer('popug-graphql');

/** The operation span of each recorded request, by its GraphQL context value: root-field spans (./root-field-spans.ts) are its children. */
const operationSpans = new WeakMap<object, Span>();

/** The operation span of the request whose GraphQL context value is `contextValue`, while it executes; none in an unrecorded request. */
export function operationSpanOf(contextValue: unknown): Span | undefined {
  return typeof contextValue === 'object' && contextValue !== null ? operationSpans.get(contextValue) : undefined;
}

export interface OperationSpanOptions {
  /**
   * The `query Name` span around execution. The gateway leaves it out: Apollo Gateway's own
   * `gateway.request` span is that step there, and the gateway does not run graphql's execute.
   */
  operation: boolean;
}

/**
 * GraphQL's spans from Apollo Server's request hooks (docs/observability.md "Traces"), in place
 * of `@opentelemetry/instrumentation-graphql`: `graphql.parse` and `graphql.validate` when
 * Apollo parses and validates (a cached document is neither), and the operation span (`query
 * MyTasks`, with the instrumentation's attribute names) around execution. Only a request whose
 * context records gets any: the instrumentation wrapped graphql's `parse`, `validate` and
 * `execute` for every request, and in one nobody records still switched context three times
 * and rebuilt the document's text for an attribute of a span nobody kept.
 */
export function operationSpansPlugin<TContext extends BaseContext>(options: OperationSpanOptions): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ contextValue }) {
      const parent = context.active();
      if (!trace.getSpan(parent)?.isRecording()) return undefined;
      return {
        async parsingDidStart() {
          const span = tracer().startSpan('graphql.parse', {}, parent);
          return async (error?: Error) => endSpan(span, error);
        },
        async validationDidStart() {
          const span = tracer().startSpan('graphql.validate', {}, parent);
          return async (errors?: readonly Error[]) => {
            if (errors?.length) span.recordException({ name: 'graphql.validation.error', message: JSON.stringify(errors) });
            span.end();
          };
        },
        async executionDidStart({ operation, document }) {
          if (!options.operation) return undefined;
          const span = startOperationSpan(parent, operation?.operation ?? 'query', operation?.name?.value, document);
          operationSpans.set(contextValue, span);
          return {
            async executionDidEnd(error?: Error) {
              operationSpans.delete(contextValue);
              endSpan(span, error);
            },
          };
        },
      };
    },
  };
}

function startOperationSpan(parent: Context, type: string, name: string | undefined, document: DocumentNode): Span {
  const source = redactedSource(document);
  return tracer().startSpan(name ? `${type} ${name}` : type, {
    attributes: { 'graphql.operation.type': type, ...(name && { 'graphql.operation.name': name }), ...(source !== undefined && { 'graphql.source': source }) },
  }, parent);
}

function endSpan(span: Span, error?: Error): void {
  if (error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
  span.end();
}

/** Literal values the document's text carries: left out of `graphql.source`, as the instrumentation did (they may be personal). */
const VALUE_TOKENS: ReadonlySet<string> = new Set([TokenKind.STRING, TokenKind.BLOCK_STRING, TokenKind.INT, TokenKind.FLOAT]);

/** The operation's text with each literal value written as `*` (a string as `"*"`); variables are not recorded at all. */
export function redactedSource(document: DocumentNode): string | undefined {
  const location = document.loc;
  if (!location) return undefined;
  const body = location.source.body;
  let text = '';
  let from = location.start;
  for (let token = location.startToken.next; token && token.kind !== TokenKind.EOF; token = token.next) {
    if (!VALUE_TOKENS.has(token.kind)) continue;
    text += body.slice(from, token.start) + (token.kind === TokenKind.INT || token.kind === TokenKind.FLOAT ? '*' : '"*"');
    from = token.end;
  }
  return (text + body.slice(from, location.end)).trim();
}
