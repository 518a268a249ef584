import { createLogger } from '@popug/lib/logger';
import { waitFor } from '@popug/testing/wait';
import type { PassReport } from '../replicator';
import { PassWake, type PassResult } from '../wake';

const logger = createLogger('pass-wake-test');
const REPORT: PassReport = { collected: 0, drainedAt: {}, applied: {}, failed: {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pass runner that takes `passMs`, answers from `answers` (then a report), and counts what ran at once. */
function fakePasses(passMs: number, answers: PassResult[] = []) {
  const state = { started: 0, running: 0, mostAtOnce: 0 };
  const runPass = async (): Promise<PassResult> => {
    state.started++;
    state.mostAtOnce = Math.max(state.mostAtOnce, ++state.running);
    await sleep(passMs);
    state.running--;
    return answers.shift() ?? REPORT;
  };
  return { state, runPass };
}

test('wakes within the debounce share one pass', async () => {
  const { state, runPass } = fakePasses(5);
  const wake = new PassWake(runPass, logger, 20);
  for (let n = 0; n < 50; n++) wake.wake();
  await sleep(100);
  expect(state.started).toBe(1);
  await wake.close();
});

test('a wake during a pass runs exactly one more after it, never two at once', async () => {
  const { state, runPass } = fakePasses(50);
  const wake = new PassWake(runPass, logger, 1);
  wake.wake();
  await waitFor(async () => (state.running === 1 ? true : undefined), 1_000, 'the first pass');
  for (let n = 0; n < 10; n++) wake.wake();
  await waitFor(async () => (state.started === 2 ? true : undefined), 1_000, 'the second pass');
  await sleep(150);
  expect(state).toEqual({ started: 2, running: 0, mostAtOnce: 1 });
  await wake.close();
});

test('a pass refused as busy is tried again until one runs', async () => {
  const { state, runPass } = fakePasses(1, ['busy', 'busy', 'busy']);
  const wake = new PassWake(runPass, logger, 1);
  const results: PassResult[] = [];
  wake.onPass((result) => results.push(result));
  wake.wake();
  await waitFor(async () => (results.length === 4 ? true : undefined), 2_000, 'a pass after three refusals');
  expect(results).toEqual(['busy', 'busy', 'busy', REPORT]);
  await sleep(100);
  expect(state.started).toBe(4);
  await wake.close();
});

test('a failed pass is not retried until woken again', async () => {
  let calls = 0;
  const wake = new PassWake(
    async () => {
      calls++;
      throw new Error('master unreachable');
    },
    logger,
    1,
  );
  wake.wake();
  await sleep(100);
  expect(calls).toBe(1);
  wake.wake();
  await waitFor(async () => (calls === 2 ? true : undefined), 1_000, 'the pass woken again');
  await wake.close();
});

test('close waits for the pass in flight and wakes nothing after', async () => {
  const { state, runPass } = fakePasses(80);
  const wake = new PassWake(runPass, logger, 1);
  wake.wake();
  await waitFor(async () => (state.running === 1 ? true : undefined), 1_000, 'a pass');
  wake.wake();
  await wake.close();
  expect(state.running).toBe(0);
  wake.wake();
  await sleep(50);
  expect(state.started).toBe(1);
});
