import { loadTracingEnv } from '../env';
import type { startTracing } from './sdk';

/**
 * Imported first by every service's entry point, before anything it instruments is loaded
 * (docs/observability.md "Traces"). Tracing is on only when an OTLP endpoint is set and OTEL_SDK_DISABLED
 * is not `true`; off, not even the SDK is loaded.
 */
const env = loadTracingEnv();
if (env && (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT) && !env.OTEL_SDK_DISABLED) {
  // A synchronous require: the instrumentations must patch pg, http… before the entry point's other imports load them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./sdk') as { startTracing: typeof startTracing }).startTracing(env);
}
