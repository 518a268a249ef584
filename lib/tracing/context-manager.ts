import { promiseHooks } from 'node:v8';
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

/** Where each promise keeps the context it was created in. */
const CREATED_IN = Symbol('popug.context');

interface WithContext {
  [CREATED_IN]?: Context;
}

/**
 * The tracing SDK's context manager (docs/observability.md "Traces", cost): the active context follows the
 * code through calls, `then` and `await`, carried by V8's promise hooks.
 *
 * The SDK's own manager keeps it in an AsyncLocalStorage, which on Node 20 turns on Node's
 * async hooks for the whole process: every promise and every callback from Node then goes
 * through them (async ids, resource lookups), on every request, traced or not, about a tenth
 * of the stack's throughput. Here a promise notes the active context when it is created
 * and its reactions run in it: three small calls per promise, no async ids.
 *
 * What it does not carry: the context into a callback that Node calls later (a timer, an
 * event, `process.nextTick`) rather than a promise reaction; such a callback runs in the root
 * context unless it was bound (`context.bind`). Our code and the instrumentations read the
 * context synchronously or after an `await`, and add no listener that writes a span or a log
 * line; event emitters are not bound (the HTTP instrumentation's binding wrapped every
 * listener of a traced request to switch context per event). Node 22's AsyncLocalStorage,
 * built on V8's continuation data instead of async hooks, would need none of this.
 */
export class PromiseContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;
  private readonly outer: Context[] = [];
  private stopHooks: (() => void) | undefined;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the bound function runs with its caller's `this`
    const manager = this;
    const original = target as unknown as (...args: unknown[]) => unknown;
    return function boundToContext(this: unknown, ...args: unknown[]) {
      return manager.with(context, () => original.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    if (this.stopHooks) return this;
    this.stopHooks = promiseHooks.createHook({
      init: (promise) => {
        (promise as WithContext)[CREATED_IN] = this.current;
      },
      before: (promise) => {
        this.outer.push(this.current);
        this.current = (promise as WithContext)[CREATED_IN] ?? ROOT_CONTEXT;
      },
      after: () => {
        this.current = this.outer.pop() ?? ROOT_CONTEXT;
      },
    }) as () => void;
    return this;
  }

  disable(): this {
    this.stopHooks?.();
    this.stopHooks = undefined;
    this.current = ROOT_CONTEXT;
    this.outer.length = 0;
    return this;
  }
}
