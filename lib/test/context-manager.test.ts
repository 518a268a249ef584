import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { PromiseContextManager } from '../tracing/context-manager';

/**
 * The tracing SDK's context manager (docs/observability.md "Traces", cost): the context follows calls,
 * `then` and `await`, each flow its own however they interleave; bound functions carry it;
 * event emitters and plain callbacks are left alone.
 */
const manager = new PromiseContextManager().enable();
beforeAll(() => context.setGlobalContextManager(manager));
afterAll(() => {
  context.disable();
  manager.disable();
});

const KEY = createContextKey('request');
const request = (name: string) => ROOT_CONTEXT.setValue(KEY, name);
const seen = () => context.active().getValue(KEY);

describe('the context manager', () => {
  it('carries the context across awaits and then, and restores the outer one', async () => {
    const inside = await context.with(request('r1'), async () => {
      const before = seen();
      await nextTurn();
      const afterAwait = seen();
      const inThen = await Promise.resolve().then(() => seen());
      return [before, afterAwait, inThen];
    });
    expect(inside).toEqual(['r1', 'r1', 'r1']);
    expect(seen()).toBeUndefined();
  });

  it('keeps interleaved requests apart', async () => {
    const flow = (name: string, turns: number) =>
      context.with(request(name), async () => {
        const seenAt: unknown[] = [];
        for (let turn = 0; turn < turns; turn++) {
          await (turn % 2 === 0 ? nextTurn() : Promise.resolve());
          seenAt.push(seen());
          await context.with(request(`${name}.inner`), async () => {
            await nextTurn();
            seenAt.push(seen());
          });
        }
        return seenAt;
      });
    const [first, second] = await Promise.all([flow('a', 4), flow('b', 5)]);
    expect(first).toEqual(['a', 'a.inner', 'a', 'a.inner', 'a', 'a.inner', 'a', 'a.inner']);
    expect(second).toEqual(['b', 'b.inner', 'b', 'b.inner', 'b', 'b.inner', 'b', 'b.inner', 'b', 'b.inner']);
    expect(seen()).toBeUndefined();
  });

  it('runs a bound function in its context, with its caller\'s this and arguments', () => {
    const bound = context.bind(request('r2'), function (this: { tag: string }, suffix: string) {
      return `${this.tag}:${String(seen())}:${suffix}`;
    });
    expect(bound.call({ tag: 't' }, 'x')).toBe('t:r2:x');
    expect(seen()).toBeUndefined();
  });

  it('leaves event emitters and plain callbacks alone', async () => {
    const emitter = new EventEmitter();
    const methods = Object.keys(emitter);
    expect(context.bind(request('r3'), emitter)).toBe(emitter);
    expect(Object.keys(emitter)).toEqual(methods);
    const inTimer = await context.with(request('r3'), () => new Promise((resolve) => setTimeout(() => resolve(seen()), 1)));
    expect(inTimer).toBeUndefined();
  });
});
