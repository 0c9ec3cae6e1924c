import { describe, expect, test } from 'bun:test';
import { type BatchEntry, KeyedBatches } from './keyed-batches.ts';

/** A runner that records each batch and waits for the test to let it finish. */
function gatedRunner() {
  const batches: { key: string; requests: number[] }[] = [];
  const gates: (() => void)[] = [];
  const run = async (key: string, batch: readonly BatchEntry<number, number>[]) => {
    batches.push({ key, requests: batch.map((entry) => entry.request) });
    await new Promise<void>((open) => gates.push(open));
    for (const entry of batch) entry.resolve(entry.request * 10);
  };
  return { batches, run, openNext: () => gates.shift()?.() };
}

describe('KeyedBatches', () => {
  test('the requests of one turn of the event loop go together; those arriving meanwhile go together next', async () => {
    const runner = gatedRunner();
    const batches = new KeyedBatches<string, number, number>(runner.run);
    const first = [batches.submit('a', 1), batches.submit('a', 2), batches.submit('b', 3)];
    expect(runner.batches).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runner.batches).toEqual([
      { key: 'a', requests: [1, 2] },
      { key: 'b', requests: [3] },
    ]);
    const later = [batches.submit('a', 4), batches.submit('a', 5)];
    runner.openNext();
    expect(await Promise.all(first.slice(0, 2))).toEqual([10, 20]);
    await Bun.sleep(0);
    expect(runner.batches[2]).toEqual({ key: 'a', requests: [4, 5] });
    runner.openNext();
    runner.openNext();
    expect(await Promise.all([first[2], ...later])).toEqual([30, 40, 50]);
  });

  test('keys do not wait for each other', async () => {
    const runner = gatedRunner();
    const batches = new KeyedBatches<string, number, number>(runner.run);
    void batches.submit('a', 1);
    const other = batches.submit('b', 2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runner.batches.map((batch) => batch.key)).toEqual(['a', 'b']);
    runner.openNext();
    runner.openNext();
    expect(await other).toBe(20);
  });

  test('a runner that throws fails the entries it left unsettled; the key then runs again', async () => {
    const failure = new Error('store down');
    const runner = gatedRunner();
    let isFailing = true;
    const batches = new KeyedBatches<string, number, number>(async (key, batch) => {
      if (!isFailing) return runner.run(key, batch);
      await runner.run(key, batch.slice(0, 0));
      batch[0]!.resolve(-1);
      throw failure;
    });
    const alone = batches.submit('a', 1);
    await new Promise((resolve) => setImmediate(resolve));
    const together = [batches.submit('a', 2), batches.submit('a', 3)];
    runner.openNext();
    expect(await alone).toBe(-1);
    await Bun.sleep(0);
    runner.openNext();
    expect(await Promise.allSettled(together)).toEqual([
      { status: 'fulfilled', value: -1 },
      { status: 'rejected', reason: failure },
    ]);
    isFailing = false;
    const next = batches.submit('a', 4);
    await new Promise((resolve) => setImmediate(resolve));
    runner.openNext();
    expect(await next).toBe(40);
  });

  test('an entry the runner forgets fails instead of hanging', async () => {
    const batches = new KeyedBatches<string, number, number>(async () => {});
    await expect(batches.submit('a', 1)).rejects.toThrow('without settling');
  });
});
