import { basename, dirname } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BullMQOtel } from 'bullmq-otel';
import { loadEnv } from '../env';
import { setActiveTracing } from './active';
import { recordingOnly } from './recording-only';
import { assignRequestId, RequestIdSpanProcessor } from './request-id-processor';

/**
 * The OpenTelemetry SDK (README "Traces"), loaded by ./start.ts only when tracing is on:
 * HTTP in and out (Node's http, undici), GraphQL (operation, parse, validate, resolvers),
 * PostgreSQL (pg) and Redis (ioredis), W3C `traceparent` propagation (the SDK's default),
 * OTLP/HTTP export, all configured by the standard OTEL_* variables.
 */
export function startTracing(): void {
  const env = loadEnv();
  const provider = new NodeTracerProvider({
    // Sampling follows OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the SDK reads them).
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceOfEntry(process.argv[1] ?? '') }),
    spanProcessors: [new RequestIdSpanProcessor(), new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  setActiveTracing({ queueTelemetry: new BullMQOtel('popug-jira'), shutdown: () => provider.shutdown() });
  registerInstrumentations({ tracerProvider: provider, instrumentations: instrumentations() });
}

/** Probes and scrapes are not requests anyone traces: no span, no sampling decision. */
const UNTRACED_PATHS = new Set(['/health', '/live', '/ready', '/metrics']);

/** A `traceparent` whose flags clear the sampled bit: the caller (the gateway) decided not to keep this trace. */
const UNSAMPLED_PARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f][02468ace]$/;

/**
 * Cheap when a request is not sampled (README "Traces", cost): no span at all for probes,
 * scrapes and requests whose caller did not sample them, so nothing under them is
 * instrumented; GraphQL, pg and ioredis patches step aside unless a span is recording;
 * statements, commands and outgoing calls outside any request are not traced.
 */
function instrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0] ?? '') || UNSAMPLED_PARENT.test(String(request.headers.traceparent ?? '')),
      requestHook: (span, request) => {
        if ('headers' in request) assignRequestId(span, request);
      },
    }),
    new UndiciInstrumentation({ requireParentforSpans: true }),
    recordingOnly(new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }), ['_patchExecute', '_patchParse', '_patchValidate']),
    recordingOnly(new PgInstrumentation({ requireParentSpan: true }), ['_getClientQueryPatch', '_getClientConnectPatch', '_getPoolConnectPatch']),
    recordingOnly(new IORedisInstrumentation({ requireParentSpan: true }), ['_patchSendCommand']),
  ];
}

/** `gateway/index.ts` → gateway, `subgraphs/tracker/index.ts` → tracker, `jobs/index.ts` → jobs; `npm start`'s one process → popug-jira. */
export function serviceOfEntry(entry: string): string {
  const folder = basename(dirname(entry));
  return folder === '' || folder === 'scripts' ? 'popug-jira' : folder;
}
