import { describe, expect, test } from 'bun:test';
import type { JsonObject, JsonValue } from '../identity/types.ts';
import { expectHubError } from '../testing/hub-error-assertions.ts';
import { checkSectionSize, TWIN_LIMITS, twinSize, validatedSectionPatch } from './twin-limits.ts';

/** `{l1: {l2: … {l<levels>: leaf}}}` */
function nested(levels: number, leaf: JsonValue = 'value'): JsonObject {
  let value: JsonValue = leaf;
  for (let level = levels; level >= 1; level--) value = { [`l${level}`]: value };
  return value as JsonObject;
}

describe('keys', () => {
  test.each([
    ['a.b', "'.'"],
    ['a$b', "'$'"],
    ['$custom', "'$'"],
    ['a b', 'spaces'],
    ['tab\there', 'control'],
    ['del\u007f', 'control'],
    ['c1\u0085', 'control'],
    ['lone\ud800', 'control'],
  ])('key %j is refused (%s)', (key) => {
    expectHubError(() => validatedSectionPatch('desired', { ok: { [key]: 1 } }), 'ArgumentInvalid', 'properties.desired.ok');
  });

  test('an empty key is refused', () => {
    expectHubError(() => validatedSectionPatch('tags', { '': 1 }), 'ArgumentInvalid', 'Empty keys');
  });

  test('keys may be up to 1 KB of UTF-8, counted in bytes', () => {
    expect(validatedSectionPatch('tags', { ['k'.repeat(1024)]: 1 })).toEqual({ ['k'.repeat(1024)]: 1 });
    expectHubError(() => validatedSectionPatch('tags', { ['k'.repeat(1025)]: 1 }), 'ArgumentInvalid', '1024 bytes');
    expectHubError(() => validatedSectionPatch('tags', { ['é'.repeat(513)]: 1 }), 'ArgumentInvalid', '1024 bytes');
  });

  test('letters of any script, digits and punctuation other than . $ and space are fine', () => {
    const patch = { 'ünï-cödé_😀:#@!': { 'x-y_z': 1 } };
    expect(validatedSectionPatch('reported', patch)).toEqual(patch);
  });

  test('keys inside objects inside arrays are checked too', () => {
    expectHubError(() => validatedSectionPatch('desired', { list: [{ 'bad key': 1 }] }), 'ArgumentInvalid', 'properties.desired.list[0]');
  });

  test('$version and $metadata at the root are ignored, nested ones are refused', () => {
    expect(validatedSectionPatch('desired', { a: 1, $version: 4, $metadata: { $lastUpdated: 'x' } })).toEqual({ a: 1 });
    expectHubError(() => validatedSectionPatch('desired', { a: { $version: 4 } }), 'ArgumentInvalid', "'$'");
  });
});

describe('values', () => {
  test(`nesting up to ${TWIN_LIMITS.maxDepth} object levels is accepted, one more is refused`, () => {
    expect(validatedSectionPatch('tags', nested(TWIN_LIMITS.maxDepth + 1))).toEqual(nested(11));
    expectHubError(() => validatedSectionPatch('tags', nested(TWIN_LIMITS.maxDepth + 1, {})), 'ArgumentInvalid', 'deeper than 10');
    expectHubError(() => validatedSectionPatch('reported', nested(TWIN_LIMITS.maxDepth + 2)), 'ArgumentInvalid', 'properties.reported.l1');
  });

  test('an array counts as a nesting level, as an object does', () => {
    expect(validatedSectionPatch('desired', nested(10, [1, 2]))).toEqual(nested(10, [1, 2]));
    expectHubError(() => validatedSectionPatch('desired', nested(10, [{ a: 1 }])), 'ArgumentInvalid', 'l10[0] nests deeper');
    expectHubError(() => validatedSectionPatch('desired', nested(11, [])), 'ArgumentInvalid', 'deeper than 10');
  });

  test('strings may be up to 4 KB of UTF-8, counted in bytes', () => {
    expect(validatedSectionPatch('desired', { s: 'x'.repeat(4096) })).toEqual({ s: 'x'.repeat(4096) });
    expectHubError(() => validatedSectionPatch('desired', { s: 'x'.repeat(4097) }), 'ArgumentInvalid', 'properties.desired.s');
    expectHubError(() => validatedSectionPatch('desired', { s: '€'.repeat(1366) }), 'ArgumentInvalid', '4096 bytes');
  });

  test('strings with U+0000 or an unpaired surrogate are refused (jsonb cannot store them)', () => {
    expectHubError(() => validatedSectionPatch('reported', { s: 'a\u0000b' }), 'ArgumentInvalid', 'U+0000');
    expectHubError(() => validatedSectionPatch('reported', { s: '\udc00' }), 'ArgumentInvalid', 'surrogate');
  });

  test('numbers of any size pass (IoT Hub\'s integer range cannot be told apart after JSON.parse)', () => {
    const numbers = { big: 4503599627370496, small: -4503599627370497, float: 1.5e300, tiny: -2.5e-300 };
    expect(validatedSectionPatch('reported', numbers)).toEqual(numbers);
  });

  test('a section must be a JSON object', () => {
    for (const value of [[], 'text', 3, null]) {
      expectHubError(() => validatedSectionPatch('tags', value), 'ArgumentInvalid', 'tags must be a JSON object');
    }
  });
});

describe('size', () => {
  test('is counted as IoT Hub documents it: key bytes plus strings, 8 per number, 4 per boolean', () => {
    expect(twinSize({})).toBe(0);
    expect(twinSize({ ab: 'xyz' })).toBe(5);
    expect(twinSize({ n: 1, b: true })).toBe(1 + 8 + 1 + 4);
    expect(twinSize({ o: { é: 'é', list: [1, 'ab'] } })).toBe(1 + (2 + 2) + (4 + 8 + 2));
    expect(twinSize({ s: 'a\u0001b' })).toBe(1 + 2);
  });

  test('a change that grows a section beyond its limit is refused, naming the limit', () => {
    /** At least `bytes` large by IoT Hub's count: 4000-byte strings under keys k0, k1, … */
    const big = (bytes: number): JsonObject =>
      Object.fromEntries(Array.from({ length: Math.ceil(bytes / 4000) }, (_, i) => [`k${i}`, 'x'.repeat(4000)]));
    const tags = big(8 * 1024 + 1);
    expect(twinSize(tags)).toBeGreaterThan(TWIN_LIMITS.maxTagsBytes);
    expectHubError(() => checkSectionSize('tags', {}, tags), 'ArgumentInvalid', 'limit of 8192 bytes');
    expect(() => checkSectionSize('desired', {}, tags)).not.toThrow();
    expectHubError(() => checkSectionSize('desired', {}, big(33 * 1024)), 'ArgumentInvalid', 'properties.desired would be');
    expectHubError(() => checkSectionSize('reported', {}, big(33 * 1024)), 'ArgumentInvalid', 'limit of 32768 bytes');
  });

  test('a change that shrinks an oversized section is allowed', () => {
    const oversized = { a: 'x'.repeat(4096), b: 'x'.repeat(4096), c: 'x'.repeat(100) };
    expect(() => checkSectionSize('tags', oversized, { a: 'x'.repeat(4096), b: 'x'.repeat(4096), c: 'x' })).not.toThrow();
  });
});
