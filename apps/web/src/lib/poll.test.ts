import { afterEach, beforeEach, expect, jest, test } from 'bun:test';
import { startPolling } from './poll.ts';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

/** Lets the awaited task settle so the next timer is scheduled. */
const settle = () => Promise.resolve().then(() => Promise.resolve());

test('polling runs at once, repeats an interval after each run and keeps going after a failure', async () => {
  let runs = 0;
  const stop = startPolling(async () => {
    runs++;
    if (runs === 2) throw new Error('hub down');
  }, 1000);
  expect(runs).toBe(1);
  await settle();
  jest.advanceTimersByTime(999);
  expect(runs).toBe(1);
  jest.advanceTimersByTime(1);
  expect(runs).toBe(2);
  await settle();
  jest.advanceTimersByTime(1000);
  expect(runs).toBe(3);
  stop();
});

test('stopping aborts the run in flight and schedules no more', async () => {
  let signal: AbortSignal | undefined;
  let runs = 0;
  const stop = startPolling(async (given) => {
    runs++;
    signal = given;
  }, 1000);
  await settle();
  stop();
  expect(signal?.aborted).toBe(true);
  jest.advanceTimersByTime(5000);
  expect(runs).toBe(1);
});
