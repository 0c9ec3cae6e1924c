import { describe, expect, test } from 'bun:test';
import { editableSection, mergePatch } from './twin-patch.ts';

describe('mergePatch', () => {
  test('only changed keys are sent; deleted keys are sent as null', () => {
    expect(mergePatch({ a: 1, b: 2, c: 3 }, { a: 1, b: 5, d: 4 })).toEqual({ b: 5, c: null, d: 4 });
  });

  test('nested objects are patched key by key', () => {
    expect(mergePatch({ cfg: { x: 1, y: 2, z: { k: 1 } } }, { cfg: { x: 1, y: 3, z: { k: 1 } } })).toEqual({ cfg: { y: 3 } });
    expect(mergePatch({ cfg: { x: 1 } }, { cfg: {} })).toEqual({ cfg: { x: null } });
  });

  test('arrays and type changes replace the whole value', () => {
    expect(mergePatch({ list: [1, 2], v: { a: 1 } }, { list: [1, 2, 3], v: 7 })).toEqual({ list: [1, 2, 3], v: 7 });
  });

  test('no change is an empty patch', () => {
    expect(mergePatch({ a: { b: [1] } }, { a: { b: [1] } })).toEqual({});
  });
});

describe('editableSection', () => {
  test('drops the hub metadata keys', () => {
    expect(editableSection({ $version: 3, $metadata: {}, fan: 'on' })).toEqual({ fan: 'on' });
    expect(editableSection(undefined)).toEqual({});
  });
});
