import { describe, expect, test } from 'bun:test';
import { checkJson, checkJsonObject } from './json-check.ts';

describe('checkJson', () => {
  test('valid JSON of every kind parses', () => {
    for (const text of ['{}', ' [1, -2.5e3, "a\\u00e9\\n", true, false, null, {"x": {}}] ', '"s"', '0']) {
      expect(checkJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
    }
  });

  test('an error says the line and column where the text stops being JSON', () => {
    expect(checkJson('{\n  "a": 1,\n  "b": }')).toEqual({ ok: false, error: 'Invalid JSON at line 3, column 8: unexpected "}"' });
    expect(checkJson('{"a": 1,}')).toEqual({ ok: false, error: 'Invalid JSON at line 1, column 9: expected "\\"", unexpected "}"' });
    expect(checkJson('{"a" 1}')).toEqual({ ok: false, error: 'Invalid JSON at line 1, column 6: expected ":", unexpected "1"' });
  });

  test('unterminated text, trailing garbage and single quotes are errors', () => {
    expect(checkJson('{"a": [1, 2')).toEqual({ ok: false, error: 'Invalid JSON at line 1, column 12: expected "]", unexpected end of text' });
    expect(checkJson('{} x')).toEqual({ ok: false, error: 'Invalid JSON at line 1, column 4: unexpected "x" after the value' });
    expect(checkJson("{'a': 1}").ok).toBe(false);
    expect(checkJson('').ok).toBe(false);
  });

  test('every text JSON.parse rejects is rejected', () => {
    for (const text of ['01', '1.', '-', '"\\x"', '"a\nb"', 'tru', '[1 2]', '{"a":1 "b":2}', 'NaN']) {
      expect(checkJson(text).ok).toBe(false);
    }
  });
});

describe('checkJsonObject', () => {
  test('arrays, null and scalars are not objects', () => {
    for (const text of ['[]', 'null', '3']) expect(checkJsonObject(text)).toEqual({ ok: false, error: 'Must be a JSON object, e.g. {}' });
    expect(checkJsonObject('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });
});
