import { context, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = () => trace.getTracer('popug-gateway');

/**
 * The steps Apollo Gateway records for a request (`gateway.request`, `gateway.execute`,
 * `gateway.fetch`, with its attribute names), recorded by the one-fetch shortcut
 * (./single-fetch-gateway.ts) around its fetch when the request's trace is recorded
 * (docs/observability.md "Traces"). Taking the stock executor for the sampled requests alone,
 * so Apollo's spans were whole, cost the gateway Apollo's planning look-up, execution and
 * result shaping for each of them: at 10 % sampling Apollo Gateway's and
 * federation-internals' code rose from 0.2 % to 7 % of its CPU. There is no plan span: the
 * judgement's plan is made once per document. `fetch` runs with the fetch span active, so
 * the subgraph call carries its context.
 */
export function inShortcutSteps<T>(operation: { name?: string; type?: string }, service: string, fetch: () => Promise<T>): Promise<T> {
  const operationAttributes: Attributes = operation.name ? { operationName: operation.name, 'graphql.operation.name': operation.name } : {};
  if (operation.type) operationAttributes['graphql.operation.type'] = operation.type;
  return tracer().startActiveSpan('gateway.request', { attributes: operationAttributes }, (request) =>
    tracer().startActiveSpan('gateway.execute', (execute) =>
      tracer().startActiveSpan('gateway.fetch', { attributes: { service } }, (span) => {
        const steps = [span, execute, request];
        return settle(fetch(), steps);
      }),
    ),
  );
}

async function settle<T>(answer: Promise<T>, steps: readonly Span[]): Promise<T> {
  try {
    return await answer;
  } catch (error) {
    // A failed call goes on to the stock executor, which reports it; the fetch is marked where it failed.
    steps[0]?.recordException(error instanceof Error ? error : String(error));
    steps[0]?.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    for (const step of steps) step.end();
  }
}

/** Whether the request running here is recorded (its spans are kept). */
export function isRecorded(): boolean {
  return trace.getSpan(context.active())?.isRecording() === true;
}
