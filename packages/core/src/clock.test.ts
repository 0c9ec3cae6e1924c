import { describe, expect, test } from 'bun:test';
import { isoTime } from './clock.ts';

describe('isoTime', () => {
  test('formats each time as Date does, whether it repeats the last one or not', () => {
    const times = [0, 0, 1_795_406_551_742, 1_795_406_551_742, 1_795_406_551_743, 0, -1, 8.64e15];
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  test('an invalid time throws RangeError, and the next valid one still formats', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
    expect(isoTime(1000)).toBe('1970-01-01T00:00:01.000Z');
  });
});
