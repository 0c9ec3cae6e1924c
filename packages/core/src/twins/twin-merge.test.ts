import { describe, expect, test } from 'bun:test';
import type { JsonObject } from '../identity/types.ts';
import { mergeSection, metadataOfPatch, replacementDelta, replaceSection, withoutNulls } from './twin-merge.ts';

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-01-01T00:01:00.000Z';
const desiredAt = (lastUpdated: string, version: number) => ({ $lastUpdated: lastUpdated, $lastUpdatedVersion: version });

describe('merge', () => {
  test('objects merge recursively, null deletes nested keys, other values replace', () => {
    const doc = { a: { b: 1, c: { d: 2, e: 3 } }, f: 'x', g: { h: 1 }, arr: [1, 2, 3] };
    const patch = { a: { c: { d: null, z: true } }, f: { now: 'object' }, g: 7, arr: [9] };
    const { doc: merged } = mergeSection({ doc, metadata: {} }, patch, { lastUpdated: T1 });
    expect(merged).toEqual({ a: { b: 1, c: { e: 3, z: true } }, f: { now: 'object' }, g: 7, arr: [9] });
  });

  test('null for a missing key changes nothing, and a new object drops its null members', () => {
    const { doc } = mergeSection({ doc: { a: 1 }, metadata: {} }, { ghost: null, fresh: { x: null, y: { z: null, k: 1 } } }, { lastUpdated: T1 });
    expect(doc).toEqual({ a: 1, fresh: { y: { k: 1 } } });
  });

  test('the inputs are not mutated', () => {
    const doc = { a: { b: 1 } };
    const metadata = { $lastUpdated: T1, a: { $lastUpdated: T1, b: { $lastUpdated: T1 } } };
    const patch = { a: { b: null, c: 2 } };
    const snapshot = structuredClone({ doc, metadata, patch });
    mergeSection({ doc, metadata }, patch, { lastUpdated: T2 });
    expect({ doc, metadata, patch }).toEqual(snapshot);
  });

  test('a merge copies the objects on the paths it changes and shares the untouched ones', () => {
    const doc = { a: { b: { c: 1 } }, big: { x: 1 } };
    const metadata = { $lastUpdated: T1, a: { $lastUpdated: T1, b: { $lastUpdated: T1, c: { $lastUpdated: T1 } } }, big: { $lastUpdated: T1 } };
    const merged = mergeSection({ doc, metadata }, { a: { b: { d: 2 } } }, { lastUpdated: T2 });
    expect(merged.doc.big).toBe(doc.big);
    expect(merged.metadata.big).toBe(metadata.big);
    expect(merged.doc.a).not.toBe(doc.a);
    expect((merged.doc.a as JsonObject).b).toEqual({ c: 1, d: 2 });
    expect(doc.a.b).toEqual({ c: 1 });
  });

  test('a "__proto__" key is stored as data, not as a prototype', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}') as JsonObject;
    const { doc } = mergeSection({ doc: {}, metadata: {} }, patch, { lastUpdated: T1 });
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(doc)).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe('metadata', () => {
  test('every key written gets a stamp, objects at every level too, desired with $lastUpdatedVersion', () => {
    const { metadata } = mergeSection({ doc: {}, metadata: { $lastUpdated: T1 } }, { a: { b: { c: 1 } }, d: [1, { e: 2 }] }, { lastUpdated: T2, version: 2 });
    expect(metadata).toEqual({
      ...desiredAt(T2, 2),
      a: { ...desiredAt(T2, 2), b: { ...desiredAt(T2, 2), c: desiredAt(T2, 2) } },
      d: desiredAt(T2, 2),
    });
  });

  test('reported metadata carries $lastUpdated only', () => {
    const { metadata } = mergeSection({ doc: {}, metadata: {} }, { a: { b: 1 } }, { lastUpdated: T2 });
    expect(metadata).toEqual({ $lastUpdated: T2, a: { $lastUpdated: T2, b: { $lastUpdated: T2 } } });
  });

  test('untouched siblings keep their stamps; a deletion drops the key\'s metadata and restamps its parents', () => {
    const before = mergeSection({ doc: {}, metadata: {} }, { a: { keep: 1, drop: 2 }, other: 3 }, { lastUpdated: T1, version: 2 });
    const after = mergeSection(before, { a: { drop: null } }, { lastUpdated: T2, version: 3 });
    expect(after.doc).toEqual({ a: { keep: 1 }, other: 3 });
    expect(after.metadata).toEqual({
      ...desiredAt(T2, 3),
      a: { ...desiredAt(T2, 3), keep: desiredAt(T1, 2) },
      other: desiredAt(T1, 2),
    });
  });

  test('a value replacing an object replaces its metadata subtree', () => {
    const before = mergeSection({ doc: {}, metadata: {} }, { a: { b: 1 } }, { lastUpdated: T1 });
    expect(mergeSection(before, { a: 5 }, { lastUpdated: T2 }).metadata).toEqual({ $lastUpdated: T2, a: { $lastUpdated: T2 } });
  });

  test('a key without metadata (seeded at creation) gets a fresh node when merged into', () => {
    const after = mergeSection({ doc: { a: { b: 1 } }, metadata: { $lastUpdated: T1 } }, { a: { c: 2 } }, { lastUpdated: T2, version: 2 });
    expect(after.metadata).toEqual({ ...desiredAt(T2, 2), a: { ...desiredAt(T2, 2), c: desiredAt(T2, 2) } });
  });

  test('metadataOfPatch keeps the root stamp and the nodes of the keys set', () => {
    const { metadata } = mergeSection({ doc: { old: 1 }, metadata: {} }, { a: 1, gone: null }, { lastUpdated: T2, version: 4 });
    expect(metadataOfPatch(metadata, { a: 1, gone: null })).toEqual({ ...desiredAt(T2, 4), a: desiredAt(T2, 4) });
  });
});

describe('replace', () => {
  test('a replaced section is stamped whole and loses null members', () => {
    expect(replaceSection({ a: { b: null, c: 1 } }, { lastUpdated: T2, version: 5 })).toEqual({
      doc: { a: { c: 1 } },
      metadata: { ...desiredAt(T2, 5), a: { ...desiredAt(T2, 5), c: desiredAt(T2, 5) } },
    });
  });

  test('the replacement delta nulls every key the new document no longer has, at every level', () => {
    const before = { a: { x: 1, y: 2 }, b: 1, c: { d: 1 } };
    const after = { a: { x: 1 }, c: 5, e: { f: 1 } };
    expect(replacementDelta(before, after)).toEqual({ a: { x: 1, y: null }, c: 5, e: { f: 1 }, b: null });
    expect(replacementDelta(before, {})).toEqual({ a: null, b: null, c: null });
  });

  test('withoutNulls leaves arrays as they are', () => {
    expect(withoutNulls({ a: [null, { b: null }], c: null })).toEqual({ a: [null, { b: null }] });
  });
});
