/** Validation of a cloud-to-device send: ack modes, expiry, size, ids and the `to` address. */

import { describe, expect, test } from 'bun:test';
import { expectHubError } from '../testing/hub-error-assertions.ts';
import {
  deviceBoundAddress,
  expiryTimeOf,
  MAX_C2D_MESSAGE_BYTES,
  messageSizeBytes,
  parseAck,
  prepareCloudToDeviceMessage,
} from './c2d-message.ts';

const NOW = Date.UTC(2026, 0, 1);
const HOUR_MS = 3_600_000;
const limits = { nowMs: NOW, defaultTtlMs: HOUR_MS, maxTtlMs: 48 * HOUR_MS };

describe('parseAck', () => {
  test.each([
    [undefined, 'none'],
    ['', 'none'],
    ['none', 'none'],
    ['Positive', 'positive'],
    ['NEGATIVE', 'negative'],
    ['full', 'full'],
  ] as const)('%p reads as %s', (value, ack) => {
    expect(parseAck(value)).toBe(ack);
  });

  test('anything else fails with ArgumentInvalid naming iothub-ack', () => {
    expectHubError(() => parseAck('always'), 'ArgumentInvalid', 'iothub-ack');
  });
});

describe('expiryTimeOf', () => {
  test('no expiry means now plus the default TTL', () => {
    expect(expiryTimeOf(undefined, limits)).toBe(NOW + HOUR_MS);
  });

  test('an absolute expiry is kept to the millisecond, up to the maximum TTL', () => {
    expect(expiryTimeOf('2026-01-01T00:00:01.234Z', limits)).toBe(NOW + 1234);
    expect(expiryTimeOf(new Date(NOW + 48 * HOUR_MS).toISOString(), limits)).toBe(NOW + 48 * HOUR_MS);
  });

  test.each([
    ['beyond the maximum TTL', new Date(NOW + 48 * HOUR_MS + 1).toISOString(), 'hours ahead'],
    ['now', new Date(NOW).toISOString(), 'not in the future'],
    ['unparsable', 'soon', 'ISO-8601'],
  ])('an expiry %s fails with ArgumentInvalid', (_label, value, mentions) => {
    expectHubError(() => expiryTimeOf(value, limits), 'ArgumentInvalid', mentions);
  });
});

describe('prepareCloudToDeviceMessage', () => {
  test('counts body, property names and values in UTF-8 bytes', () => {
    expect(messageSizeBytes(new Uint8Array(3), { 'message-id': 'é' }, { k: '🌊' })).toBe(3 + 10 + 2 + 1 + 4);
  });

  test('addresses the message to the device, encoding its id as the service SDK does', () => {
    expect(deviceBoundAddress('a b:c')).toBe('/devices/a%20b%3Ac/messages/deviceBound');
    const prepared = prepareCloudToDeviceMessage({ body: new Uint8Array(), systemProperties: { to: '/elsewhere' } as never }, { ...limits, deviceId: 'dev1' });
    expect(prepared.systemProperties.to).toBe('/devices/dev1/messages/deviceBound');
  });

  test('drops undefined system properties so they do not reach the store', () => {
    const prepared = prepareCloudToDeviceMessage(
      { body: new Uint8Array(), systemProperties: { 'correlation-id': undefined, 'content-type': 'text/plain' } },
      { ...limits, deviceId: 'dev1' },
    );
    expect(Object.keys(prepared.systemProperties).sort()).toEqual(['content-type', 'message-id', 'to']);
  });

  test.each([
    ['an empty message id', { 'message-id': '' }],
    ['a message id over 128 characters', { 'message-id': 'x'.repeat(129) }],
  ])('%s fails with ArgumentInvalid', (_label, systemProperties) => {
    expectHubError(() => prepareCloudToDeviceMessage({ body: new Uint8Array(), systemProperties }, { ...limits, deviceId: 'd' }), 'ArgumentInvalid');
  });

  test('a body over the limit alone fails with MessageTooLarge', () => {
    expectHubError(
      () => prepareCloudToDeviceMessage({ body: new Uint8Array(MAX_C2D_MESSAGE_BYTES) }, { ...limits, deviceId: 'd' }),
      'MessageTooLarge',
    );
  });
});
