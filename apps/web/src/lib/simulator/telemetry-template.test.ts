import { describe, expect, test } from 'bun:test';
import { compileTemplate } from './telemetry-template.ts';

const now = new Date('2030-01-02T03:04:05.000Z');
/** A random source that returns the given values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

function compiled(text: string) {
  const result = compileTemplate(text);
  if (!result.template) throw new Error(result.error);
  return result.template;
}

describe('compileTemplate', () => {
  test('a walk starts at its start value and moves by at most its step per message', () => {
    const template = compiled('{"temperature": "$walk(20, 0.5)"}');
    const random = sequence(1, 0, 0.5);
    expect(template.render(random, now)).toEqual({ temperature: 20 });
    expect(template.render(random, now)).toEqual({ temperature: 20.5 });
    expect(template.render(random, now)).toEqual({ temperature: 20 });
    expect(template.render(random, now)).toEqual({ temperature: 20 });
  });

  test('a bounded walk stays within min and max', () => {
    const template = compiled('{"v": "$walk(9, 5, 0, 10)"}');
    const random = sequence(1);
    template.render(random, now);
    expect(template.render(random, now)).toEqual({ v: 10 });
    expect(template.render(sequence(0), now)).toEqual({ v: 5 });
  });

  test('random, counter and now generators work inside nested objects and arrays', () => {
    const template = compiled('{"a": {"r": "$random(10, 20)", "n": ["$counter(5)", "$now"]}, "label": "x", "on": true}');
    const random = sequence(0.25);
    expect(template.render(random, now)).toEqual({ a: { r: 12.5, n: [5, '2030-01-02T03:04:05.000Z'] }, label: 'x', on: true });
    expect(template.render(random, now)).toEqual({ a: { r: 12.5, n: [6, '2030-01-02T03:04:05.000Z'] }, label: 'x', on: true });
  });

  test('counter without an argument starts at 0; spaces around arguments are allowed', () => {
    const template = compiled('["$counter()", "$walk( 1 , 0 )"]');
    expect(template.render(Math.random, now)).toEqual([0, 1]);
  });

  test('strings that are not generator calls are sent as written', () => {
    const template = compiled('{"s": "$other(1)", "t": "price $5", "u": "$walk"}');
    expect(template.render(Math.random, now)).toEqual({ s: '$other(1)', t: 'price $5', u: '$walk' });
  });

  test('invalid JSON and malformed generators are reported', () => {
    expect(compileTemplate('{"a": ').error).toStartWith('Not valid JSON');
    expect(compileTemplate('{"a": "$walk(1)"}').error).toBe('$walk(1): $walk takes (start, step) or (start, step, min, max)');
    expect(compileTemplate('{"a": "$random(1, x)"}').error).toBe('$random(1, x): arguments must be numbers');
  });
});
