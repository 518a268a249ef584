import { basename, dirname } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type BatchSpanProcessorOptions } from '@opentelemetry/sdk-trace';
import { BullMQOtel } from 'bullmq-otel';
import type { TracingEnv } from '../env';
import { setActiveTracing } from './active';
import { edgeSampler, startedShare } from './edge-sampling';
import { registerTracing } from './register';
import { RequestIdSpanProcessor } from './request-id-processor';

/**
 * The OpenTelemetry SDK (docs/observability.md "Traces"), loaded by ./start.ts only when tracing is on:
 * HTTP in (./server-span.ts, wrapped around our servers by lib/http.ts; calls out carry the
 * context themselves, ./outgoing.ts), PostgreSQL (pg) and Redis (ioredis); GraphQL's spans
 * (parse, validate, operation, root-field resolvers) are ours, from an Apollo Server plugin
 * (./operation-spans.ts, ./root-field-spans.ts), which the servers add while tracing is on;
 * W3C `traceparent` propagation, OTLP/HTTP export, configured by the standard OTEL_* variables.
 * Stock parts only: the SDK's provider, sampler interface, span processors and context manager.
 */
export function startTracing(env: TracingEnv): void {
  const provider = new TracerProvider({
    sampler: edgeSampler(startedShare()),
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceOfEntry(process.argv[1] ?? '') }),
    spanProcessors: [new RequestIdSpanProcessor(), new BatchSpanProcessor(batchOptions(env))],
  });
  registerTracing(provider);
  setActiveTracing({ queueTelemetry: new BullMQOtel({ tracerName: 'popug-jira' }), shutdown: () => provider.shutdown() });
  registerInstrumentations({ tracerProvider: provider, instrumentations: instrumentations() });
}

/** The exporter and the OTEL_BSP_* settings, which SDK 3's processor no longer reads itself. */
function batchOptions(env: TracingEnv): BatchSpanProcessorOptions {
  return {
    exporter: new OTLPTraceExporter(),
    ...(env.OTEL_BSP_SCHEDULE_DELAY && { scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY }),
    ...(env.OTEL_BSP_MAX_QUEUE_SIZE && { maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE }),
    ...(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE && { maxExportBatchSize: env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE }),
    ...(env.OTEL_BSP_EXPORT_TIMEOUT && { exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT }),
  };
}

/**
 * Statements and commands outside any span are not traced. No GraphQL instrumentation: it
 * wrapped graphql's parse, validate and execute for every request, recorded or not
 * (./operation-spans.ts makes those spans, for recorded requests only).
 */
function instrumentations() {
  return [
    // Calls out through Node's http (ours go through undici and carry the context themselves, ./outgoing.ts);
    // requests in get their span from ./server-span.ts, far cheaper than the instrumentation's.
    new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
  ];
}

/** `gateway/index.ts` → gateway, `subgraphs/tracker/index.ts` → tracker, `jobs/index.ts` → jobs; `npm start`'s one process → popug-jira. */
export function serviceOfEntry(entry: string): string {
  const folder = basename(dirname(entry));
  return folder === '' || folder === 'scripts' ? 'popug-jira' : folder;
}
