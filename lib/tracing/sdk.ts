import { basename, dirname } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { BullMQOtel } from 'bullmq-otel';
import { loadEnv } from '../env';
import { setActiveTracing } from './active';
import { PromiseContextManager } from './context-manager';
import { edgeSampler, startedShare, tracedRequestsOnly } from './edge-sampling';
import { recordingOnly } from './recording-only';
import { assignRequestId, RequestIdSpanProcessor } from './request-id-processor';
import { UnsampledPassThroughProvider } from './unsampled-pass-through';

/**
 * The OpenTelemetry SDK (docs/observability.md "Traces"), loaded by ./start.ts only when tracing is on:
 * HTTP in (Node's http; calls out carry the context themselves, ./outgoing.ts), GraphQL
 * (operation, parse, validate; root-field resolvers), PostgreSQL (pg) and Redis (ioredis), W3C `traceparent` propagation (the SDK's default),
 * OTLP/HTTP export, all configured by the standard OTEL_* variables.
 */
export function startTracing(): void {
  const env = loadEnv();
  const share = startedShare();
  const provider = new UnsampledPassThroughProvider({
    // The share of traces follows OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, drawn once per trace where it starts.
    sampler: edgeSampler(share),
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceOfEntry(process.argv[1] ?? '') }),
    spanProcessors: [new RequestIdSpanProcessor(), new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The context on V8's promise hooks, not an AsyncLocalStorage (./context-manager.ts).
  provider.register({ contextManager: new PromiseContextManager() });
  setActiveTracing({ queueTelemetry: new BullMQOtel({ tracerName: 'popug-jira' }), shutdown: () => provider.shutdown() });
  registerInstrumentations({ tracerProvider: provider, instrumentations: instrumentations(share) });
}

/**
 * Cheap when a request is not traced (docs/observability.md "Traces", cost): the decision is made as the
 * request comes in (`untracedContext`: the caller's `traceparent`, or drawn here at
 * `share`), and an untraced request, a probe or a scrape bypasses the HTTP instrumentation,
 * so nothing under it is instrumented; outgoing calls carry the decision in their headers
 * (./outgoing.ts); GraphQL, pg and ioredis patches step aside unless a span is recording;
 * statements and commands outside any request are not traced.
 */
function instrumentations(share: number) {
  return [
    tracedRequestsOnly(
      new HttpInstrumentation({
        requestHook: (span, request) => {
          if ('headers' in request) assignRequestId(span, request);
        },
      }),
      share,
    ),
    // Resolver spans are ours, root fields only (./root-field-spans.ts).
    recordingOnly(new GraphQLInstrumentation({ ignoreResolveSpans: true }), ['_patchExecute', '_patchParse', '_patchValidate']),
    recordingOnly(new PgInstrumentation({ requireParentSpan: true }), ['_getClientQueryPatch', '_getClientConnectPatch', '_getPoolConnectPatch']),
    recordingOnly(new IORedisInstrumentation({ requireParentSpan: true }), ['_patchSendCommand']),
  ];
}

/** `gateway/index.ts` → gateway, `subgraphs/tracker/index.ts` → tracker, `jobs/index.ts` → jobs; `npm start`'s one process → popug-jira. */
export function serviceOfEntry(entry: string): string {
  const folder = basename(dirname(entry));
  return folder === '' || folder === 'scripts' ? 'popug-jira' : folder;
}
