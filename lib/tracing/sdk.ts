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
import { loadEnv } from '../env';
import { REQUEST_ID_ATTRIBUTE } from './request-id';

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
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        requestHook: (span, request) => {
          const requestId = 'headers' in request ? request.headers['x-request-id'] : undefined;
          if (typeof requestId === 'string') span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
        },
      }),
      new UndiciInstrumentation(),
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
    ],
  });
}

/** `gateway/index.ts` → gateway, `subgraphs/tracker/index.ts` → tracker, `jobs/index.ts` → jobs; `npm start`'s one process → popug-jira. */
export function serviceOfEntry(entry: string): string {
  const folder = basename(dirname(entry));
  return folder === '' || folder === 'scripts' ? 'popug-jira' : folder;
}
