import { describe, expect, test } from 'bun:test';
import { SlidingWindow } from './sliding-window.ts';

const fields = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('SlidingWindow', () => {
  test('a series that appears later is backfilled with gaps; a missing field is a gap', () => {
    const window = new SlidingWindow(60, 1000);
    window.push(1, fields({ a: 1 }));
    window.push(2, fields({ a: 2, b: 5 }));
    window.push(3, fields({ b: 6 }));
    expect(window.seriesNames()).toEqual(['a', 'b']);
    expect(window.columns()).toEqual([
      [1, 2, 3],
      [1, 2, null],
      [null, 5, 6],
    ]);
  });

  test('prune drops points older than the window and series left without points', () => {
    const window = new SlidingWindow(60, 1000);
    window.push(10, fields({ old: 1 }));
    window.push(50, fields({ a: 2 }));
    window.push(80, fields({ a: 3 }));
    window.prune(100);
    expect(window.seriesNames()).toEqual(['a']);
    expect(window.columns()).toEqual([
      [50, 80],
      [2, 3],
    ]);
  });

  test('the point cap bounds memory however fast points arrive', () => {
    const window = new SlidingWindow(60, 100);
    for (let i = 0; i < 10_000; i++) window.push(i / 1000, fields({ v: i }));
    expect(window.size).toBe(100);
    expect(window.columns()[1]?.[0]).toBe(9900);
  });

  test('times that go backwards are clamped so the axis stays sorted', () => {
    const window = new SlidingWindow(60, 100);
    window.push(5, fields({ v: 1 }));
    window.push(4, fields({ v: 2 }));
    expect(window.columns()[0]).toEqual([5, 5]);
  });

  test('columns are copies the chart may keep', () => {
    const window = new SlidingWindow(60, 100);
    window.push(1, fields({ v: 1 }));
    const columns = window.columns();
    window.push(2, fields({ v: 2 }));
    expect(columns[0]).toEqual([1]);
  });
});
