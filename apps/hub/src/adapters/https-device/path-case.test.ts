/**
 * The device API's fixed path segments in lower case, ids untouched, other paths unchanged.
 */

import { describe, expect, test } from 'bun:test';
import { normalizeDeviceApiPath } from './path-case.ts';

describe('normalizeDeviceApiPath', () => {
  test.each([
    ['/devices/Dev1/messages/deviceBound', '/devices/Dev1/messages/devicebound'],
    ['/devices/Dev1/messages/DeviceBound/', '/devices/Dev1/messages/devicebound/'],
    ['/devices/Dev1/Messages/Events', '/devices/Dev1/messages/events'],
    ['/Devices/Dev1/messages/events', '/devices/Dev1/messages/events'],
    ['/devices/Dev1/messages/deviceBound/LockAB-12', '/devices/Dev1/messages/devicebound/LockAB-12'],
    ['/devices/Dev1/messages/deviceBound/LockAB-12/Abandon', '/devices/Dev1/messages/devicebound/LockAB-12/abandon'],
    ['/devices/Dev1/Files', '/devices/Dev1/files'],
    ['/devices/Dev1/files/Notifications', '/devices/Dev1/files/notifications'],
    ['/devices/Dev1/Files/Notifications/Corr%2FId%3D', '/devices/Dev1/files/notifications/Corr%2FId%3D'],
  ])('lower-cases the fixed segments of %s', (given, expected) => {
    expect(normalizeDeviceApiPath(given)).toBe(expected);
  });

  test('keeps a percent-encoded id (with %2F) as one segment, in its own case', () => {
    expect(normalizeDeviceApiPath('/devices/My%2FDevice%3AX/messages/Events')).toBe('/devices/My%2FDevice%3AX/messages/events');
  });

  test('an id spelled like a fixed segment keeps its case', () => {
    expect(normalizeDeviceApiPath('/devices/Messages/messages/Events')).toBe('/devices/Messages/messages/events');
    expect(normalizeDeviceApiPath('/devices/Files/Files')).toBe('/devices/Files/files');
  });

  test.each([
    '/devices/Dev1',
    '/devices/Dev1/modules/Files',
    '/devices/Dev1/modules/M1/messages/Events',
    '/devices/Dev1/messages/deviceBound/Lock/Abandon/More',
    '/devices/Dev1/Commands',
    '/devices//messages/Events',
    '/twins/Dev1/methods',
    '/events/partitions/0',
    '/',
    '',
  ])('leaves %s as it is', (path) => {
    expect(normalizeDeviceApiPath(path)).toBe(path);
  });
});
