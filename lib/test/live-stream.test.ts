import { LiveStream } from '../subgraph/live-stream';

/** A subscription's queue: in order, bounded, ended once, and `return()` never waits for an event. */

describe('LiveStream', () => {
  it('hands events over in order, to a waiting reader at once', async () => {
    const stream = new LiveStream<number>(10, () => undefined);
    const first = stream.next();
    stream.push(1);
    stream.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await stream.next()).toEqual({ value: 2, done: false });
  });

  it('ends a consumer that lets more than the bound wait with SLOW_CONSUMER, dropping what waited', async () => {
    let ended = 0;
    const stream = new LiveStream<number>(3, () => ended++);
    for (let value = 0; value < 10; value++) stream.push(value);
    const last = await stream.next();
    expect(last.value).toBeInstanceOf(Error);
    expect(last.value).toMatchObject({ extensions: { code: 'SLOW_CONSUMER' } });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
    expect(stream.open).toBe(false);
  });

  it('gives an ending error to a reader already waiting, then ends', async () => {
    const stream = new LiveStream<number>(3, () => undefined);
    const waiting = stream.next();
    stream.end(new Error('gone'));
    expect((await waiting).value).toEqual(new Error('gone'));
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('returns at once while a reader waits for an event that never comes, and stops its feed', async () => {
    let ended = 0;
    const stream = new LiveStream<number>(3, () => ended++);
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    stream.push(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(ended).toBe(1);
  });
});
