import { describe, expect, test } from 'bun:test';
import { newDevice } from '../identity/device-rules.ts';
import { identityEtag } from '../identity/etag.ts';
import { newModule } from '../identity/module-rules.ts';
import { initialTwinState } from '../identity/twin-state.ts';
import { deviceTwinView, serviceTwin, twinEtag, twinProperties } from './twin-document.ts';

const NOW = Date.UTC(2026, 0, 1);

describe('twin etag', () => {
  test.each([
    [1, 'AAAAAAAAAAE='],
    [2, 'AAAAAAAAAAI='],
    [256, 'AAAAAAAAAQA='],
    [2 ** 40 + 5, 'AAABAAAAAAU='],
  ])('version %d is %s: base64 of 8 big-endian bytes', (version, etag) => {
    expect(twinEtag(version)).toBe(etag);
  });

  test('differs from the identity etag of the same counter', () => {
    expect(twinEtag(1)).not.toBe(identityEtag(1));
  });
});

describe('documents', () => {
  const state = {
    ...initialTwinState(NOW, { tags: { site: 'a' }, desired: { fan: 'on' } }),
    reported: { temp: 21 },
    reportedMetadata: { $lastUpdated: 'T', temp: { $lastUpdated: 'T' } },
    reportedVersion: 2,
    version: 2,
  };

  test('the device view has desired and reported with $version, no $metadata and no tags', () => {
    expect(deviceTwinView(state)).toEqual({ desired: { fan: 'on', $version: 1 }, reported: { temp: 21, $version: 2 } });
    expect(deviceTwinView(initialTwinState(NOW))).toEqual({ desired: { $version: 1 }, reported: { $version: 1 } });
  });

  test('the service properties carry $metadata and $version in both sections', () => {
    expect(twinProperties(state)).toEqual({
      desired: { fan: 'on', $metadata: { $lastUpdated: new Date(NOW).toISOString() }, $version: 1 },
      reported: { temp: 21, $metadata: { $lastUpdated: 'T', temp: { $lastUpdated: 'T' } }, $version: 2 },
    });
  });

  test('the service twin names its identity, etag and version', () => {
    const device = newDevice({ deviceId: 'd1' }, NOW);
    expect(serviceTwin(device, state, null)).toMatchObject({ deviceId: 'd1', moduleId: null, etag: 'AAAAAAAAAAI=', version: 2, tags: { site: 'a' } });
    const module = newModule({ deviceId: 'd1', moduleId: 'm1' }, NOW);
    expect(serviceTwin(module, state, 'dtmi:x;1')).toMatchObject({ deviceId: 'd1', moduleId: 'm1', modelId: 'dtmi:x;1' });
  });
});
