import { expect, test } from 'bun:test';
import { toChartData } from './throughput.ts';

test('points become uPlot columns with times in seconds', () => {
  expect(toChartData([{ t: 1_700_000_000, count: 3 }, { t: 1_700_000_001, count: 0 }])).toEqual([
    [1_700_000_000, 1_700_000_001],
    [3, 0],
  ]);
});

test('millisecond times are converted to seconds', () => {
  expect(toChartData([{ t: 1_700_000_000_000, count: 1 }])).toEqual([[1_700_000_000], [1]]);
});

test('no points give empty columns', () => {
  expect(toChartData([])).toEqual([[], []]);
});
