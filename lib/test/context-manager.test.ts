import { EventEmitter } from 'node:events';
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { UnboundEmittersContextManager } from '../tracing/context-manager';

/** The tracing SDK's context manager (README "Traces", cost): carries context across awaits and bound functions, leaves event emitters as they are. */
const manager = new UnboundEmittersContextManager().enable();
beforeAll(() => context.setGlobalContextManager(manager));
afterAll(() => context.disable());

const KEY = createContextKey('request');
const inRequest = ROOT_CONTEXT.setValue(KEY, 'request 7');

describe('the context manager', () => {
  it('carries the context across awaits and into bound functions', async () => {
    const seen = await context.with(inRequest, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return context.active().getValue(KEY);
    });
    expect(seen).toBe('request 7');
    const bound = context.bind(inRequest, () => context.active().getValue(KEY));
    expect(bound()).toBe('request 7');
  });

  it('does not patch an event emitter: its listeners run as they would without tracing', () => {
    const emitter = new EventEmitter();
    const methods = Object.keys(emitter);
    expect(context.bind(inRequest, emitter)).toBe(emitter);
    expect(Object.keys(emitter)).toEqual(methods);
    let seen: unknown = 'not called';
    emitter.on('data', () => (seen = context.active().getValue(KEY)));
    emitter.emit('data');
    expect(seen).toBeUndefined();
  });
});
