import { describe, expect, test } from 'bun:test';
import { initialTwinState } from '../identity/twin-state.ts';
import type { JsonObject, TwinState } from '../identity/types.ts';
import { expectHubError } from '../testing/hub-error-assertions.ts';
import { applyReportedPatch, applyServicePatch, applyServiceReplace, type TwinMutation } from './twin-changes.ts';

const T0 = Date.UTC(2026, 0, 1);
const T1 = T0 + 60_000;
const ISO0 = new Date(T0).toISOString();
const ISO1 = new Date(T1).toISOString();
const fresh = () => initialTwinState(T0);
/** Objects nested `levels` deep: `{l1: {l2: … {}}}`. */
const nested = (levels: number): JsonObject => (levels === 0 ? {} : { [`l${levels}`]: nested(levels - 1) });
/** `count` properties of 4000-byte strings. */
const bigStrings = (count: number): JsonObject =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'x'.repeat(4000)]));
const applied = (mutation: TwinMutation | undefined): TwinMutation => {
  expect(mutation).toBeDefined();
  return mutation!;
};

describe('reported patch (device)', () => {
  test('merges, bumps the reported and twin versions only, and stamps $lastUpdated without a version', () => {
    const { next, desiredDelta, change } = applied(applyReportedPatch(fresh(), { fw: '1.0', net: { rssi: -60 } }, T1));
    expect(next).toEqual({
      ...fresh(),
      reported: { fw: '1.0', net: { rssi: -60 } },
      reportedMetadata: { $lastUpdated: ISO1, fw: { $lastUpdated: ISO1 }, net: { $lastUpdated: ISO1, rssi: { $lastUpdated: ISO1 } } },
      reportedVersion: 2,
      version: 2,
    });
    expect(desiredDelta).toBeUndefined();
    expect(change).toEqual({
      opType: 'updateTwin',
      version: 2,
      atMs: T1,
      body: { version: 2, properties: { reported: { fw: '1.0', net: { rssi: -60 }, $metadata: next.reportedMetadata, $version: 2 } } },
    });
  });

  test('null deletes a nested reported property', () => {
    const first = applied(applyReportedPatch(fresh(), { a: { b: 1, c: 2 } }, T0)).next;
    expect(applied(applyReportedPatch(first, { a: { c: null } }, T1)).next.reported).toEqual({ a: { b: 1 } });
  });

  test('a $version in the patch is ignored; a patch with nothing else changes nothing', () => {
    expect(applied(applyReportedPatch(fresh(), { $version: 99, a: 1 }, T1)).next.reportedVersion).toBe(2);
    expect(applyReportedPatch(fresh(), { $version: 99 }, T1)).toBeUndefined();
    expect(applyReportedPatch(fresh(), {}, T1)).toBeUndefined();
  });

  test('a reported patch that is not an object is refused', () => {
    expectHubError(() => applyReportedPatch(fresh(), [1, 2], T1), 'ArgumentInvalid', 'properties.reported must be a JSON object');
  });
});

describe('service patch', () => {
  test('merges tags and desired; desired gets $version + 1 and $lastUpdatedVersion; the delta carries $version', () => {
    const { next, desiredDelta, change } = applied(
      applyServicePatch(fresh(), { tags: { site: 'a' }, properties: { desired: { fan: { speed: 2 } } } }, T1),
    );
    expect(next.tags).toEqual({ site: 'a' });
    expect(next.desired).toEqual({ fan: { speed: 2 } });
    expect(next.desiredMetadata).toEqual({
      $lastUpdated: ISO1,
      $lastUpdatedVersion: 2,
      fan: { $lastUpdated: ISO1, $lastUpdatedVersion: 2, speed: { $lastUpdated: ISO1, $lastUpdatedVersion: 2 } },
    });
    expect([next.version, next.desiredVersion, next.reportedVersion]).toEqual([2, 2, 1]);
    expect(desiredDelta).toEqual({ fan: { speed: 2 }, $version: 2 });
    expect(change.body).toEqual({
      version: 2,
      tags: { site: 'a' },
      properties: { desired: { fan: { speed: 2 }, $metadata: next.desiredMetadata, $version: 2 } },
    });
  });

  test('versions grow by one per change: desired 1 → 2 → 3, twin version with every change', () => {
    let state: TwinState = fresh();
    state = applied(applyServicePatch(state, { properties: { desired: { a: 1 } } }, T1)).next;
    state = applied(applyReportedPatch(state, { r: 1 }, T1)).next;
    state = applied(applyServicePatch(state, { tags: { t: 1 } }, T1)).next;
    state = applied(applyServicePatch(state, { properties: { desired: { a: 2 } } }, T1)).next;
    expect([state.version, state.desiredVersion, state.reportedVersion]).toEqual([5, 3, 2]);
  });

  test('a tags-only patch leaves desired and its version alone and has no desired delta', () => {
    const { next, desiredDelta } = applied(applyServicePatch(fresh(), { tags: { a: { b: 1 } } }, T1));
    expect([next.version, next.desiredVersion]).toEqual([2, 1]);
    expect(next.desiredMetadata).toEqual({ $lastUpdated: ISO0 });
    expect(desiredDelta).toBeUndefined();
  });

  test('null deletes nested desired keys and tags; the delta keeps the nulls for the device', () => {
    const before = applied(applyServicePatch(fresh(), { tags: { a: { b: 1, c: 2 } }, properties: { desired: { x: { y: 1, z: 2 } } } }, T0)).next;
    const { next, desiredDelta } = applied(
      applyServicePatch(before, { tags: { a: { c: null } }, properties: { desired: { x: { z: null } } } }, T1),
    );
    expect(next.tags).toEqual({ a: { b: 1 } });
    expect(next.desired).toEqual({ x: { y: 1 } });
    expect(desiredDelta).toEqual({ x: { z: null }, $version: 3 });
  });

  test('desired: null or tags: null clears the section; the delta nulls every former key', () => {
    const before = applied(applyServicePatch(fresh(), { tags: { a: 1 }, properties: { desired: { x: 1, y: { z: 2 } } } }, T0)).next;
    const { next, desiredDelta, change } = applied(applyServicePatch(before, { tags: null, properties: { desired: null } }, T1));
    expect(next.tags).toEqual({});
    expect(next.desired).toEqual({});
    expect(next.desiredMetadata).toEqual({ $lastUpdated: ISO1, $lastUpdatedVersion: 3 });
    expect(desiredDelta).toEqual({ x: null, y: null, $version: 3 });
    expect(change.body.tags).toEqual({ a: null });
  });

  test('etag, $version, $metadata and identity fields in the body are ignored', () => {
    const body = {
      etag: 'AAAAAAAAAAE=',
      deviceId: 'someone-else',
      version: 99,
      tags: { $version: 3, a: 1 },
      properties: { desired: { $version: 7, $metadata: { $lastUpdated: 'x' }, b: 2 } },
    };
    const { next, desiredDelta } = applied(applyServicePatch(fresh(), body, T1));
    expect(next.tags).toEqual({ a: 1 });
    expect(next.desired).toEqual({ b: 2 });
    expect([next.version, next.desiredVersion]).toEqual([2, 2]);
    expect(desiredDelta).toEqual({ b: 2, $version: 2 });
  });

  test('a patch with nothing to change changes nothing', () => {
    for (const body of [{}, { etag: '*' }, { tags: {} }, { properties: {} }, { properties: null }, { properties: { desired: {} } }]) {
      expect(applyServicePatch(fresh(), body, T1)).toBeUndefined();
    }
  });

  test('touching properties.reported is refused, even alongside a valid change', () => {
    expectHubError(
      () => applyServicePatch(fresh(), { tags: { a: 1 }, properties: { reported: { x: 1 } } }, T1),
      'ArgumentInvalid',
      'properties.reported is read-only',
    );
  });

  test('bodies and sections of the wrong type are refused', () => {
    expectHubError(() => applyServicePatch(fresh(), [], T1), 'ArgumentInvalid', 'The twin patch must be a JSON object');
    expectHubError(() => applyServicePatch(fresh(), { tags: 'x' }, T1), 'ArgumentInvalid', 'tags must be a JSON object');
    expectHubError(() => applyServicePatch(fresh(), { properties: 1 }, T1), 'ArgumentInvalid', 'properties must be');
    expectHubError(() => applyServicePatch(fresh(), { properties: { desired: [1] } }, T1), 'ArgumentInvalid', 'properties.desired must be');
  });

  test('each limit is refused, naming it: tags 8 KB, desired 32 KB, depth, key, string', () => {
    const cases: [JsonObject, string][] = [
      [{ tags: bigStrings(3) }, 'tags would be'],
      [{ properties: { desired: bigStrings(9) } }, 'properties.desired would be'],
      [{ properties: { desired: nested(11) } }, 'deeper than 10'],
      [{ tags: { 'a.b': 1 } }, 'Key "a.b" in tags'],
      [{ properties: { desired: { s: 'x'.repeat(4097) } } }, 'The string at properties.desired.s'],
    ];
    for (const [body, message] of cases) expectHubError(() => applyServicePatch(fresh(), body, T1), 'ArgumentInvalid', message);
  });

  test('the size limit applies to the merged result, not to the patch alone', () => {
    const before = applied(applyServicePatch(fresh(), { properties: { desired: bigStrings(8) } }, T0)).next;
    expectHubError(() => applyServicePatch(before, { properties: { desired: { more: 'x'.repeat(1000) } } }, T1), 'ArgumentInvalid', '32768');
    expectHubError(() => applyReportedPatch({ ...before, reported: bigStrings(8) }, { more: 'x'.repeat(1000) }, T1), 'ArgumentInvalid', 'properties.reported would be');
  });
});

describe('service replace', () => {
  test('replaces tags and desired whole, bumps versions, and sends the device the new desired with nulls for removed keys', () => {
    const before = applied(applyServicePatch(fresh(), { tags: { old: 1 }, properties: { desired: { keep: { a: 1, b: 2 }, drop: 1 } } }, T0)).next;
    const withReported = applied(applyReportedPatch(before, { r: 1 }, T0)).next;
    const { next, desiredDelta, change } = applyServiceReplace(
      withReported,
      { etag: 'x', tags: { new: 1 }, properties: { desired: { keep: { a: 1 }, $version: 1 }, reported: { ignored: true } } },
      T1,
    );
    expect(next.tags).toEqual({ new: 1 });
    expect(next.desired).toEqual({ keep: { a: 1 } });
    expect(next.reported).toEqual({ r: 1 });
    expect(next.desiredMetadata).toEqual({
      $lastUpdated: ISO1,
      $lastUpdatedVersion: 3,
      keep: { $lastUpdated: ISO1, $lastUpdatedVersion: 3, a: { $lastUpdated: ISO1, $lastUpdatedVersion: 3 } },
    });
    expect([next.version, next.desiredVersion, next.reportedVersion]).toEqual([4, 3, 2]);
    expect(desiredDelta).toEqual({ keep: { a: 1, b: null }, drop: null, $version: 3 });
    expect(change.opType).toBe('replaceTwin');
    expect(change.body).toMatchObject({ version: 4, tags: { new: 1 }, properties: { desired: { keep: { a: 1 }, $version: 3 }, reported: { r: 1, $version: 2 } } });
  });

  test('absent tags and desired mean empty', () => {
    const before = applied(applyServicePatch(fresh(), { tags: { a: 1 }, properties: { desired: { b: 1 } } }, T0)).next;
    const { next, desiredDelta } = applyServiceReplace(before, {}, T1);
    expect([next.tags, next.desired]).toEqual([{}, {}]);
    expect(desiredDelta).toEqual({ b: null, $version: 3 });
  });

  test('the same limits apply', () => {
    expectHubError(() => applyServiceReplace(fresh(), { tags: bigStrings(3) }, T1), 'ArgumentInvalid', 'tags would be');
    expectHubError(() => applyServiceReplace(fresh(), { properties: { desired: { 'a b': 1 } } }, T1), 'ArgumentInvalid', 'properties.desired');
  });
});
