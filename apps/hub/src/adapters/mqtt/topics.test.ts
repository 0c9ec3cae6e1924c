import { describe, expect, test } from 'bun:test';
import {
  c2dTopic,
  desiredPatchTopic,
  grantedQos,
  hasWildcard,
  methodRequestTopic,
  parsePublishTopic,
  parseSubscription,
  twinResponseTopic,
} from './topics.ts';

describe('parsePublishTopic', () => {
  test('device telemetry names the device and hands over the raw property bag', () => {
    expect(parsePublishTopic('devices/d1/messages/events/%24.mid=m1&a=b')).toEqual({
      kind: 'telemetry',
      deviceId: 'd1',
      moduleId: null,
      propertyBag: '%24.mid=m1&a=b',
    });
  });

  test('telemetry with an empty bag, and without the trailing `/`, has an empty bag', () => {
    expect(parsePublishTopic('devices/d1/messages/events/')).toEqual({ kind: 'telemetry', deviceId: 'd1', moduleId: null, propertyBag: '' });
    expect(parsePublishTopic('devices/d1/messages/events')).toEqual({ kind: 'telemetry', deviceId: 'd1', moduleId: null, propertyBag: '' });
  });

  test('module telemetry names the device and the module, and keeps the output bag with its trailing `/`', () => {
    expect(parsePublishTopic('devices/d1/modules/m1/messages/events/%24.on=out1/')).toEqual({
      kind: 'telemetry',
      deviceId: 'd1',
      moduleId: 'm1',
      propertyBag: '%24.on=out1/',
    });
  });

  // `%` is a legal id character (core's validateDeviceId) and the SDK writes the raw id into the topic
  // (azure-iot-common endpoint.deviceEventPath), just as it does into the CONNECT client id.
  test('device and module ids are taken raw, as the SDK writes them, even when they contain `%`', () => {
    expect(parsePublishTopic('devices/dev%41/modules/m%25x/messages/events/')).toMatchObject({ deviceId: 'dev%41', moduleId: 'm%25x' });
  });

  test('a twin GET carries its request id, also among other query parameters', () => {
    expect(parsePublishTopic('$iothub/twin/GET/?$rid=42')).toEqual({ kind: 'twinGet', requestId: '42' });
    expect(parsePublishTopic('$iothub/twin/GET/?$rid=42&x=1')).toEqual({ kind: 'twinGet', requestId: '42' });
    expect(parsePublishTopic('$iothub/twin/GET/?foo=bar&$rid=abc-1')).toEqual({ kind: 'twinGet', requestId: 'abc-1' });
  });

  test('a parameter whose name merely starts with `$rid` is not the request id', () => {
    expect(parsePublishTopic('$iothub/twin/GET/?$ridx=9&$rid=3')).toEqual({ kind: 'twinGet', requestId: '3' });
  });

  test('a reported-properties PATCH carries its request id, also among other query parameters', () => {
    expect(parsePublishTopic('$iothub/twin/PATCH/properties/reported/?$rid=7')).toEqual({ kind: 'twinPatchReported', requestId: '7' });
    expect(parsePublishTopic('$iothub/twin/PATCH/properties/reported/?$version=3&$rid=7')).toEqual({
      kind: 'twinPatchReported',
      requestId: '7',
    });
  });

  test('a method response carries its status and request id, also among other query parameters', () => {
    expect(parsePublishTopic('$iothub/methods/res/200/?$rid=1f')).toEqual({ kind: 'methodResponse', status: 200, requestId: '1f' });
    expect(parsePublishTopic('$iothub/methods/res/404/?a=b&$rid=2&c=d')).toEqual({ kind: 'methodResponse', status: 404, requestId: '2' });
  });

  test('a twin or method topic without a request id, or with an empty one, is unknown', () => {
    expect(parsePublishTopic('$iothub/twin/GET/?')).toEqual({ kind: 'unknown' });
    expect(parsePublishTopic('$iothub/twin/GET/?$rid=')).toEqual({ kind: 'unknown' });
    expect(parsePublishTopic('$iothub/twin/PATCH/properties/reported/?x=1')).toEqual({ kind: 'unknown' });
    expect(parsePublishTopic('$iothub/methods/res/200/?$rid')).toEqual({ kind: 'unknown' });
  });

  test('a method response whose status is not a number is unknown', () => {
    expect(parsePublishTopic('$iothub/methods/res/ok/?$rid=1')).toEqual({ kind: 'unknown' });
    expect(parsePublishTopic('$iothub/methods/res/2000/?$rid=1')).toEqual({ kind: 'unknown' });
  });

  test('topics IoT Hub does not define are unknown', () => {
    for (const topic of [
      'devices/d1/messages/eventsX/',
      'devices/d1/messages/devicebound/',
      'devices/d1/modules/m1/inputs/in1/',
      'devices//messages/events/',
      '$iothub/twin/PATCH/properties/desired/?$rid=1',
      '$iothub/twin/GET?$rid=1',
      'telemetry',
      '',
    ]) {
      expect(parsePublishTopic(topic)).toEqual({ kind: 'unknown' });
    }
  });
});

describe('parseSubscription', () => {
  test("a device's own C2D filter, with `#` or with the bare trailing `/`, is C2D", () => {
    expect(parseSubscription('devices/d1/messages/devicebound/#', 'd1', null)).toBe('c2d');
    expect(parseSubscription('devices/d1/messages/devicebound/', 'd1', null)).toBe('c2d');
  });

  test("another device's C2D filter is refused", () => {
    expect(parseSubscription('devices/d2/messages/devicebound/#', 'd1', null)).toBeUndefined();
  });

  test('a module subscribes to its own inputs, not to C2D nor to another module', () => {
    expect(parseSubscription('devices/d1/modules/m1/inputs/#', 'd1', 'm1')).toBe('moduleInputs');
    expect(parseSubscription('devices/d1/messages/devicebound/#', 'd1', 'm1')).toBeUndefined();
    expect(parseSubscription('devices/d1/modules/m2/inputs/#', 'd1', 'm1')).toBeUndefined();
  });

  test('a device identity cannot subscribe to module inputs', () => {
    expect(parseSubscription('devices/d1/modules/m1/inputs/#', 'd1', null)).toBeUndefined();
  });

  test('the `$iothub` filters are methods, twin responses and desired patches for devices and modules alike', () => {
    for (const moduleId of [null, 'm1']) {
      expect(parseSubscription('$iothub/methods/POST/#', 'd1', moduleId)).toBe('methods');
      expect(parseSubscription('$iothub/twin/res/#', 'd1', moduleId)).toBe('twinResponses');
      expect(parseSubscription('$iothub/twin/PATCH/properties/desired/#', 'd1', moduleId)).toBe('desired');
    }
  });

  test('wildcards and other filters are refused', () => {
    for (const filter of ['#', '+/#', 'devices/+/messages/devicebound/#', '$iothub/#', '$iothub/methods/POST/+', 'devices/d1/messages/events/']) {
      expect(parseSubscription(filter, 'd1', null)).toBeUndefined();
    }
  });

  test('C2D and module inputs are granted QoS 1, the `$iothub` topics QoS 0', () => {
    expect(grantedQos('c2d')).toBe(1);
    expect(grantedQos('moduleInputs')).toBe(1);
    expect(grantedQos('methods')).toBe(0);
    expect(grantedQos('twinResponses')).toBe(0);
    expect(grantedQos('desired')).toBe(0);
  });
});

describe('hub → device topics', () => {
  test("the C2D topic puts the bag in the segment the SDK reads (index 4)", () => {
    const topic = c2dTopic('d1', '%24.mid=m1&a=%2F');
    expect(topic).toBe('devices/d1/messages/devicebound/%24.mid=m1&a=%2F');
    expect(topic.split('/')[4]).toBe('%24.mid=m1&a=%2F');
  });

  test('a method request names the method and carries the request id', () => {
    expect(methodRequestTopic('reboot', '1a')).toBe('$iothub/methods/POST/reboot/?$rid=1a');
  });

  test('a twin response carries status and request id, and `$version` only when given', () => {
    expect(twinResponseTopic(200, 'r1')).toBe('$iothub/twin/res/200/?$rid=r1');
    expect(twinResponseTopic(204, 'r2', 5)).toBe('$iothub/twin/res/204/?$rid=r2&$version=5');
    expect(twinResponseTopic(204, 'r3', 0)).toBe('$iothub/twin/res/204/?$rid=r3&$version=0');
  });

  test('a desired patch carries its version', () => {
    expect(desiredPatchTopic(12)).toBe('$iothub/twin/PATCH/properties/desired/?$version=12');
  });
});

describe('hasWildcard', () => {
  test('`+` and `#` anywhere are wildcards; `$` and `%` are not', () => {
    expect(hasWildcard('devices/+/messages/events/')).toBe(true);
    expect(hasWildcard('devices/d1/messages/events/#')).toBe(true);
    expect(hasWildcard('devices/d1/messages/events/a=b+c')).toBe(true);
    expect(hasWildcard('devices/d1/messages/events/$.mid=1&%24.cid=2')).toBe(false);
  });
});
