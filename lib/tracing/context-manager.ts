import { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * The SDK's context manager (AsyncLocalStorage) without its binding of event emitters
 * (README "Traces", cost). The HTTP instrumentation binds a traced request's request and
 * response to the request's context: six methods replaced on each, and every listener added
 * afterwards (Node's, Express's, ours) wrapped to switch context on every event. Our code
 * reads the context only across calls and awaits, which AsyncLocalStorage carries, and adds
 * no listener that writes a span or a log line; the instrumentation ends its server span
 * from a listener that holds the span itself. Functions are still bound.
 */
export class UnboundEmittersContextManager extends AsyncLocalStorageContextManager {
  override bind<T>(context: Context, target: T): T {
    return target instanceof EventEmitter ? target : super.bind(context, target);
  }
}
