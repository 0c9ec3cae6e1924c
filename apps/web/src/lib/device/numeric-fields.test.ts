import { describe, expect, test } from 'bun:test';
import { numericFields } from './numeric-fields.ts';

describe('numericFields', () => {
  test('nested objects and arrays flatten to dotted names', () => {
    const fields = numericFields({ temperature: 21.5, env: { humidity: 40, wind: { speed: 3 } }, samples: [1, 2] });
    expect([...fields]).toEqual([
      ['temperature', 21.5],
      ['env.humidity', 40],
      ['env.wind.speed', 3],
      ['samples.0', 1],
      ['samples.1', 2],
    ]);
  });

  test('strings, booleans, nulls and non-finite numbers are skipped', () => {
    expect([...numericFields({ s: '12', b: true, n: null, x: Number.NaN, ok: 0 })]).toEqual([['ok', 0]]);
  });

  test('a bare number is named value; a bare string has no fields', () => {
    expect([...numericFields(7)]).toEqual([['value', 7]]);
    expect(numericFields('hello').size).toBe(0);
  });
});
